#!/bin/bash
# imgtool build against the peers: for each Buildfile in
# tests/fixtures/buildfiles/, the same file tree as `podman build` gives
# from the same context and base image; the built image copied by skopeo
# to the lab's registry and back, and run by podman.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/env.sh"

need () { command -v "$1" > /dev/null || { skip "$1 not installed"; done_testing; exit; }; }
[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
for p in podman skopeo umoci jq; do need $p; done

peers_env "$T_TMP/peers" || { ok "peers environment" false; done_testing; exit 1; }
trap peers_cleanup EXIT
layout=$T_TMP/busybox
ok "busybox layout (made without imgtool)" peers_busybox_layout "$layout" latest
ok "busybox into podman's storage" peers_podman_load "$layout" latest
mkdir -p "$IMGTOOL_ROOT"
ok "the same busybox into imgtool's store" \
  skopeo copy -q "oci:$layout:latest" "oci:$IMGTOOL_ROOT/oci:docker.io/library/busybox:latest"

# A sorted listing of a root file system: path, mode, owner, size and link
# count of files, symlink targets, then the contents' hashes. Never mtimes.
# buildah 1.28 leaves the mount points it made for RUN in its layers (empty
# /dev /proc /sys /run and /etc/hostname, hosts, resolv.conf); imgtool,
# like docker, does not: those empty entries are left out of the listing.
listing () {
  (cd "$1" &&
    find . -mindepth 1 \( -path ./dev -o -path ./proc -o -path ./sys -o -path ./run \
      -o -path ./etc/hostname -o -path ./etc/hosts -o -path ./etc/resolv.conf \) -empty -delete &&
    find . -mindepth 1 \( -type f -printf '%p %M %U:%G %s %n\n' \) \
      -o \( -type l -printf '%p %M %U:%G -> %l\n' \) -o -printf '%p %M %U:%G\n' | LC_ALL=C sort &&
    find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}

# unpack an OCI layout's image into DIR with umoci (the same tool for both)
unpack () { umoci unpack --image "$1" "$2" > /dev/null; }

for dir in "$TESTS_DIR"/fixtures/buildfiles/*/; do
  name=$(basename "$dir")
  ctx=$T_TMP/ctx-$name
  cp -a "$dir/ctx" "$ctx" 2>/dev/null || mkdir -p "$ctx"
  if [ "$name" = addtar ]; then
    mkdir -p "$T_TMP/at/sub"
    echo in-archive > "$T_TMP/at/a.txt"; echo deep > "$T_TMP/at/sub/b.txt"
    echo over > "$T_TMP/at/existing"
    tar -C "$T_TMP/at" --owner=0 --group=0 --mtime=@1000 -czf "$ctx/archive.tar.gz" .
    echo plain | gzip > "$ctx/plain.txt.gz"
  fi
  # extra build arguments (--secret ...), @DIR@ = the fixture's directory
  args=()
  [ -f "$dir/args" ] && read -ra args < <(sed "s|@DIR@|${dir%/}|g" "$dir/args")
  ok "$name: imgtool build" "$IMGTOOL" build -q "${args[@]}" -t "t-$name" -f "$dir/Buildfile" "$ctx" || continue
  ok "$name: podman build" peers_podman build -q --layers "${args[@]}" -t "t-$name" -f "$dir/Buildfile" "$ctx" || continue
  skopeo copy -q "oci:$IMGTOOL_ROOT/oci:docker.io/library/t-$name:latest" "oci:$T_TMP/il-$name:x" &&
    unpack "$T_TMP/il-$name:x" "$T_TMP/i-$name"
  peers_ns skopeo copy -q "containers-storage:localhost/t-$name:latest" "oci:$T_TMP/pl-$name:x" &&
    unpack "$T_TMP/pl-$name:x" "$T_TMP/p-$name"
  # buildah 1.28 also leaves the parents it made for RUN --mount targets
  # (empty); BuildKit and imgtool do not: the fixture lists them
  [ -f "$dir/mountpoints" ] && while read -r m; do
    rmdir "$T_TMP/p-$name/rootfs/$m" 2>/dev/null
  done < "$dir/mountpoints"
  d=$(diff <(listing "$T_TMP/p-$name/rootfs") <(listing "$T_TMP/i-$name/rootfs"))
  is "$name: the same file tree as podman build (< podman, > imgtool)" "$d" ""
  [ "$(listing "$T_TMP/i-$name/rootfs" | wc -l)" -gt 100 ]
  ok "$name: ... (a real tree was compared)" test $? = 0
  rm -rf "$T_TMP/i-$name" "$T_TMP/p-$name" "$T_TMP/il-$name" "$T_TMP/pl-$name"
done

# --- the built image in the peers' hands ------------------------------------
"$IMGTOOL" build -q -t site:1 -f "$TESTS_DIR/../Buildfile.example" "$TESTS_DIR/.." > /dev/null
ok "skopeo reads the built image from imgtool's store" \
  skopeo inspect "oci:$IMGTOOL_ROOT/oci:docker.io/library/site:1"
ok "podman loads it" peers_podman_load "$IMGTOOL_ROOT/oci" docker.io/library/site:1 localhost/site:1
# (as root: the peers' busybox layout has a 0700 "/", which only root
# may cross)
is "podman runs it (in its WORKDIR, the site owned by its user)" \
  "$(peers_podman run --rm --network=none --user 0 localhost/site:1 sh -c 'pwd; stat -c %U index.html; grep -c "Hello from" index.html' 2>&1)" \
  "/srv/www
www
1"
is "podman sees its User" "$(peers_podman image inspect --format '{{.Config.User}}' localhost/site:1 2>&1)" www
is "podman sees its Cmd" "$(peers_podman image inspect --format '{{json .Config.Cmd}}' localhost/site:1 2>&1)" \
  '["sh","-c","exec httpd -f -p \"$PORT\" -h /srv/www"]'

if [ -n "${LAB_HTTP:-}" ]; then
  repo=$LAB_HTTP/lab-check/build-$$
  ok "skopeo copies it to the lab's registry" skopeo copy -q --dest-tls-verify=false \
    "oci:$IMGTOOL_ROOT/oci:docker.io/library/site:1" "docker://$repo:1"
  ok "... and back into a new store" skopeo copy -q --src-tls-verify=false \
    "docker://$repo:1" "oci:$T_TMP/back:1"
  is "the same manifest came back" \
    "$(skopeo inspect --raw "oci:$T_TMP/back:1" | sha256sum | cut -c1-64)" \
    "$(skopeo inspect --raw "oci:$IMGTOOL_ROOT/oci:docker.io/library/site:1" | sha256sum | cut -c1-64)"
  mkdir -p "$T_TMP/root2"
  skopeo copy -q "oci:$T_TMP/back:1" "oci:$T_TMP/root2/oci:docker.io/library/site:back"
  is "imgtool runs the copy that went through the registry" \
    "$(IMGTOOL_ROOT=$T_TMP/root2 "$IMGTOOL" run --rm site:back cat /srv/www/style.css | wc -l)" 1
else
  skip "the lab is not up: no registry round trip"
fi

done_testing
