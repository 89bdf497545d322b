#!/bin/bash
# Seekable layers (zstd:chunked, eStargz; layers/toc.h, layers/seekable.h):
# imgtool writes them (build and push --compression), every file of them is
# read back through their TOC (tests/helpers/toc-dump), and the peers read
# them as ordinary layers: skopeo copies them, podman pulls (also with
# partial pulls on) and runs them, containerd's ctr pulls and runs them.
# buildah's zstd:chunked layers are read by imgtool's TOC reader.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../peers/env.sh"
TOCDUMP=${TOCDUMP:-$(dirname "$IMGTOOL")/tests/helpers/toc-dump}

need () { command -v "$1" > /dev/null || { skip "$1 not installed"; done_testing; exit; }; }
[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
if [ -z "${LAB_HTTP:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
for p in podman buildah skopeo jq zstd; do need $p; done
echo "{\"insecure-registries\": [\"$LAB_HTTP\"]}" > "$IMGTOOL_CONFIG"
R=lab-check/seek-$$
sk () { skopeo --policy "$LAB_POLICY" "$@"; }
blob () { echo "$1/blobs/sha256/${2#sha256:}"; }
# every layer of the image in OCI layout $1 (tag $2), read through its TOC
# with the manifest's annotations: "FORMAT DIFF_ID-MATCHES" per layer
layers_check () {
  local dir=$1 tag=$2 man cfg i n d ann out id
  man=$(blob "$dir" "$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$dir/index.json")")
  cfg=$(blob "$dir" "$(jq -r .config.digest "$man")")
  n=$(jq '.layers | length' "$man")
  for ((i = 0; i < n; i++)); do
    d=$(jq -r ".layers[$i].digest" "$man")
    ann=$(jq -c ".layers[$i].annotations // {}" "$man")
    out=$("$TOCDUMP" --verify --annotations "$ann" "$(blob "$dir" "$d")" 2>&1)
    case $(jq -r ".layers[$i].mediaType" "$man") in
      *zstd) id=$(zstd -dc "$(blob "$dir" "$d")" | sha256sum) ;;
      *) id=$(gzip -dc "$(blob "$dir" "$d")" | sha256sum) ;;
    esac
    [ "sha256:${id%% *}" = "$(jq -r ".rootfs.diff_ids[$i]" "$cfg")" ] && id=same || id=differs
    echo "$(echo "$out" | head -1 | cut -d' ' -f2) $id $(echo "$out" | grep -c '^verified')"
  done
}

"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture busybox in the store" test -f "$IMGTOOL_ROOT/oci/index.json"

ctx=$T_TMP/ctx
mkdir -p "$ctx/d"
head -c 3000000 /dev/urandom > "$ctx/big"
echo hello > "$ctx/d/small"
: > "$ctx/empty"
ln -s small "$ctx/d/link"
big_sum=$(sha256sum < "$ctx/big")
printf 'FROM busybox\nCOPY big empty /data/\nCOPY d /data/d\nRUN ln /data/d/small /data/hard && mkfifo /data/fifo\n' > "$ctx/Buildfile"

# --- build writes them ------------------------------------------------------
ok "doc:build-compression-seekable build --compression zstd:chunked" img build -q --compression zstd:chunked -t seek:zc "$ctx"
ok "build --compression-format estargz (podman's spelling)" img build -q --compression-format estargz -t seek:sgz "$ctx"
out=$(img build -q --compression zstd:lz4 -t seek:x "$ctx" 2>&1); rc=$?
is "an unknown compression: exit status" "$rc" 1
like "an unknown compression: says which" "$out" "unknown compression 'zstd:lz4'"
for t in zc sgz; do
  rm -rf "$T_TMP/lay-$t"
  sk copy -q "oci:$IMGTOOL_ROOT/oci:docker.io/library/seek:$t" "oci:$T_TMP/lay-$t:x" >/dev/null
done
# layer 1 is busybox's (gzip, as pulled); the build's layers are seekable
is "zstd:chunked build: the new layers have TOCs, files verified, diff_ids right" \
  "$(layers_check "$T_TMP/lay-zc" x | tail -n +2 | sort -u)" "zstd:chunked same 1"
is "estargz build: the new layers have TOCs, files verified, diff_ids right" \
  "$(layers_check "$T_TMP/lay-sgz" x | tail -n +2 | sort -u)" "estargz same 1"
man=$(blob "$T_TMP/lay-zc" "$(jq -r '.manifests[0].digest' "$T_TMP/lay-zc/index.json")")
is "zstd:chunked layers: OCI zstd media type" "$(jq -r '.layers[1].mediaType' "$man")" "application/vnd.oci.image.layer.v1.tar+zstd"
like "zstd:chunked layers: the annotations containers/storage reads" \
  "$(jq -r '.layers[1].annotations | keys | join(" ")' "$man")" \
  "io.github.containers.zstd-chunked.manifest-checksum io.github.containers.zstd-chunked.manifest-position io.github.containers.zstd-chunked.tarsplit-position"
d=$(jq -r '.layers[1].digest' "$man")
like "zstd:chunked: the tar rebuilt from tar-split and TOC is the diff_id" \
  "$("$TOCDUMP" --tarsplit "$(blob "$T_TMP/lay-zc" "$d")" | tail -1)" \
  "^diff_id $(jq -r '.rootfs.diff_ids[1]' "$(blob "$T_TMP/lay-zc" "$(jq -r .config.digest "$man")")")$"
man=$(blob "$T_TMP/lay-sgz" "$(jq -r '.manifests[0].digest' "$T_TMP/lay-sgz/index.json")")
d=$(jq -r '.layers[1].digest' "$man")
is "estargz layers: gzip media type, stargz annotations" \
  "$(jq -r '.layers[1] | .mediaType + " " + (.annotations | keys | join(" "))' "$man")" \
  "application/vnd.oci.image.layer.v1.tar+gzip containerd.io/snapshot/stargz/toc.digest io.containers.estargz.uncompressed-size"
is "estargz: uncompressed-size is the tar's size" \
  "$(jq -r '.layers[1].annotations["io.containers.estargz.uncompressed-size"]' "$man")" \
  "$(gzip -dc "$(blob "$T_TMP/lay-sgz" "$d")" | wc -c)"
is "estargz: the TOC is an ordinary tar entry, last" \
  "$(gzip -dc "$(blob "$T_TMP/lay-sgz" "$d")" | tar tf - | tail -1)" "stargz.index.json"
# imgtool runs them from its own store (ordinary zstd / gzip readers)
is "run: zstd:chunked image" "$(img run --rm --network none seek:zc sh -c 'sha256sum < /data/big; cat /data/hard; test -p /data/fifo && echo fifo')" \
  "$big_sum
hello
fifo"
is "run: estargz image" "$(img run --rm --network none seek:sgz sh -c 'sha256sum < /data/big; readlink /data/d/link')" "$big_sum
small"

# --- push --compression -----------------------------------------------------
ok "doc:push-compression push --compression zstd:chunked (every layer, busybox's too)" img push -q --compression zstd:chunked seek:sgz "$LAB_HTTP/$R/zc:1"
ok "push --compression-format estargz" img push -q --compression-format estargz seek:zc "$LAB_HTTP/$R/sgz:1"
ok "push --compression gzip (plain)" img push -q --compression gzip seek:zc "$LAB_HTTP/$R/gz:1"
out=$(img push --compression brotli seek:zc "$LAB_HTTP/$R/x:1" 2>&1); rc=$?
is "push --compression brotli: usage error" "$rc" 2
like "push --compression brotli: says why" "$out" "unknown compression 'brotli'"
for t in zc sgz gz; do
  rm -rf "$T_TMP/back-$t"
  ok "skopeo copies the $t image back" sk copy -q --src-tls-verify=false "docker://$LAB_HTTP/$R/$t:1" "oci:$T_TMP/back-$t:x"
done
is "pushed zstd:chunked: both layers seekable, verified, diff_ids right" \
  "$(layers_check "$T_TMP/back-zc" x | sort -u)" "zstd:chunked same 1"
is "pushed estargz: both layers seekable, verified, diff_ids right" \
  "$(layers_check "$T_TMP/back-sgz" x | sort -u)" "estargz same 1"
man=$(blob "$T_TMP/back-gz" "$(jq -r '.manifests[0].digest' "$T_TMP/back-gz/index.json")")
is "pushed gzip: plain gzip layers, no annotations" \
  "$(jq -r '[.layers[] | .mediaType + " " + (.annotations | tostring)] | unique | join(",")' "$man")" \
  "application/vnd.oci.image.layer.v1.tar+gzip null"

# --- podman pulls and runs them ------------------------------------------
peers_env "$T_TMP/peers" >/dev/null || { ok "peers environment" false; done_testing; exit 1; }
trap peers_cleanup EXIT
pm_host () { _peers_auth_env; peers_ns --host-net "${_peers_env[@]}" podman "$@"; }
for t in zc sgz; do
  ok "podman pulls the $t image" pm_host pull -q --tls-verify=false "$LAB_HTTP/$R/$t:1"
  is "podman runs the $t image" \
    "$(peers_podman run --rm --network=none "$LAB_HTTP/$R/$t:1" sh -c 'sha256sum < /data/big; cat /data/d/link' 2>&1)" "$big_sum
hello"
done
# partial pulls on: podman reads the TOC and fetches the files by range
cat >> "$PEERS_DIR/storage.conf" <<EOF
[storage.options]
pull_options = {enable_partial_images = "true", use_hard_links = "false"}
EOF
peers_podman rmi -a -f >/dev/null 2>&1
ok "podman, partial pulls on, pulls the zstd:chunked image" pm_host pull -q --tls-verify=false "$LAB_HTTP/$R/zc:1"
is "podman, partial pulls on, runs it" \
  "$(peers_podman run --rm --network=none "$LAB_HTTP/$R/zc:1" sha256sum /data/big 2>&1 | cut -d' ' -f1)" "${big_sum%% *}"
ranges=$(grep -v 'level=' "$LAB_LOG_HTTP" | grep -c "GET /v2/$R/zc/blobs/.* 206 ")
ok "podman fetched the zstd:chunked layers by Range (206 answers: $ranges)" [ "$ranges" -gt 0 ]

# --- buildah's zstd:chunked layers, read by imgtool ---------------------------
ok "busybox layout (made without imgtool)" peers_busybox_layout "$T_TMP/bbl" latest
ok "busybox into the peers' storage" peers_podman_load "$T_TMP/bbl" latest
c=$(peers_buildah from docker.io/library/busybox:latest 2>/dev/null)
peers_buildah copy "$c" "$ctx" /data >/dev/null 2>&1
peers_buildah commit -q "$c" bh:1 >/dev/null 2>&1
rm -rf "$T_TMP/bh"
ok "buildah pushes zstd:chunked to a layout" peers_buildah push -q --compression-format zstd:chunked bh:1 "oci:$T_TMP/bh:1"
is "buildah's zstd:chunked layers: TOC parsed, every file verified" \
  "$(layers_check "$T_TMP/bh" 1 | sort -u)" "zstd:chunked same 1"
man=$(blob "$T_TMP/bh" "$(jq -r '.manifests[0].digest' "$T_TMP/bh/index.json")")
d=$(jq -r '.layers[1].digest' "$man")
like "buildah's layer: the big file and its chunks" \
  "$("$TOCDUMP" "$(blob "$T_TMP/bh" "$d")" | grep '^reg data/big ')" "^reg data/big mode 644 uid 0 gid 0 size 3000000 chunks [0-9]+ sha256:${big_sum%% *}$"
ok "buildah pushes zstd:chunked to the registry" \
  peers_ns --host-net "${_peers_env[@]}" buildah push -q --tls-verify=false --compression-format zstd:chunked bh:1 "docker://$LAB_HTTP/$R/bh:1"

# --- imgtool pulls them (ordinary readers: skippable frames, TOC entry) ------
for t in zc sgz bh; do
  ok "imgtool pulls the $t image into a new store" env IMGTOOL_ROOT="$T_TMP/root-$t" "$IMGTOOL" pull -q "$LAB_HTTP/$R/$t:1"
  is "imgtool runs the pulled $t image" \
    "$(IMGTOOL_ROOT="$T_TMP/root-$t" "$IMGTOOL" run --rm --network none "$LAB_HTTP/$R/$t:1" sha256sum /data/big | cut -d' ' -f1)" "${big_sum%% *}"
done

# --- and loads them from an archive ------------------------------------------
for t in zc sgz; do
  rm -f "$T_TMP/$t.tar"
  sk copy -q --src-tls-verify=false "docker://$LAB_HTTP/$R/$t:1" "oci-archive:$T_TMP/$t.tar:l/$t:1" >/dev/null 2>&1
  ok "imgtool loads the $t image from an OCI archive" env IMGTOOL_ROOT="$T_TMP/rootl-$t" "$IMGTOOL" load -q -i "$T_TMP/$t.tar"
  is "imgtool runs the loaded $t image" \
    "$(IMGTOOL_ROOT="$T_TMP/rootl-$t" "$IMGTOOL" run --rm --network none "l/$t:1" sha256sum /data/big | cut -d' ' -f1)" "${big_sum%% *}"
done

# --- containerd's ctr ------------------------------------------------------
# containerd with a private root, state and socket, in the peers' mount
# namespace (its /run is private there, so ctr runs in it too); runc's
# cgroups go under the peers' parent, which peers_cleanup removes.
if command -v containerd >/dev/null && command -v ctr >/dev/null; then
  cd_dir=$T_TMP/ctrd
  mkdir -p "$cd_dir"
  printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\n[grpc]\n  address = "%s/sock"\n' \
    "$cd_dir" "$cd_dir" "$cd_dir" > "$cd_dir/config.toml"
  ctr_script () {
    local d=$1 base=$2 cg=$3 p t
    containerd --config "$d/config.toml" > "$d/log" 2>&1 &
    p=$!
    for _ in $(seq 300); do [ -S "$d/sock" ] && break; sleep 0.1; done
    for t in zc sgz; do
      if ctr --address "$d/sock" images pull --plain-http "$base/$t:1" > "$d/pull-$t" 2>&1; then
        echo "pull $t ok"
        echo "run $t $(timeout 120 ctr --address "$d/sock" run --rm --cgroup "/$cg/ctr-$t" "$base/$t:1" "ctr-$t" sha256sum /data/big 2>&1 | cut -d' ' -f1)"
      else
        echo "pull $t failed: $(tail -1 "$d/pull-$t")"
      fi
    done
    kill "$p"; wait "$p"
  }
  out=$(peers_ns --host-net bash -c "$(declare -f ctr_script); ctr_script \"\$@\"" ctr "$cd_dir" "$LAB_HTTP/$R" "$PEERS_CGROUP" 2>&1)
  for t in zc sgz; do
    like "ctr pulls the $t image" "$out" "pull $t ok"
    like "ctr runs the $t image" "$out" "run $t ${big_sum%% *}"
  done
else
  skip "containerd not installed"
fi

done_testing
