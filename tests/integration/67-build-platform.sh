#!/bin/bash
# build --platform a,b: one image per platform and an OCI index of them;
# FROM picks each platform's image of the lab's multi-arch busybox (Debian's
# busybox-static for amd64 and arm64, made without imgtool by
# tests/fixtures/make-fixtures); BuildKit's automatic platform ARGs; push
# --all (skopeo inspect --raw and copy --all as the oracles); pull and run
# --platform; RUN steps of another architecture under qemu-user through
# binfmt_misc, and the error when there is no usable handler.
#
# binfmt_misc: the kernel picks the instance of the user namespace a process
# runs in (or its nearest ancestor's). imgtool as root runs a RUN in the
# initial user namespace, so it only ever sees the host's handlers; imgtool
# in a user namespace (its rootless mode) runs RUN in there. So the checks
# run twice: (1) in a user namespace made here with a private binfmt_misc
# instance (kernel >= 6.7) holding qemu-aarch64 from /usr/lib/binfmt.d:
# nothing on the host changes; (2) as root with the handler registered in
# the host's instance, mounted in a private mount namespace, and removed
# again (only when the host had none: a handler someone else registered is
# left alone, and then (2) is skipped).
. "$(dirname "$0")/../lib.sh"

need () { command -v "$1" > /dev/null || { skip "$1 not installed"; done_testing; exit; }; }
[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
[ -n "${LAB_HTTP:-}" ] || { skip "the lab is not up"; done_testing; exit; }
[ "${LAB_ARM64_REAL:-0}" = 1 ] || { skip "the lab's arm64 busybox is not Debian's arm64 one"; done_testing; exit; }
for p in skopeo jq unshare; do need $p; done
H=$LAB_HTTP
R=lab-check/platform-$$
BB=$H/library/busybox:latest
CONF=/usr/lib/binfmt.d/qemu-aarch64.conf
BM=/proc/sys/fs/binfmt_misc
case $(uname -m) in x86_64) HOST=amd64 ;; aarch64) HOST=arm64 ;; *) HOST=$(uname -m) ;; esac
[ "$HOST" = amd64 ] || { skip "the checks assume an amd64 host"; done_testing; exit; }
bf () { mkdir -p "$T_TMP/$1"; cat > "$T_TMP/$1/Buildfile"; }
plat_of () { img inspect --platform "$2" "$1" | jq -r '.[0] | "\(.Os)/\(.Architecture)"'; }

# --- an index without emulation: no RUN for the foreign platform -------------
bf multi <<EOF
FROM --platform=\$BUILDPLATFORM $BB AS tools
RUN uname -m > /built-on
FROM $BB
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT
ARG BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT
ENV TP=\$TARGETPLATFORM TO=\$TARGETOS TA=\$TARGETARCH TV=\$TARGETVARIANT \\
    BP=\$BUILDPLATFORM BO=\$BUILDOS BA=\$BUILDARCH BV=\$BUILDVARIANT
COPY --from=tools /built-on /built-on
EOF
out=$(img build --tls-verify=false --platform linux/amd64,linux/arm64 -t multi:1 "$T_TMP/multi" 2>&1); rc=$?
is "build --platform linux/amd64,linux/arm64 (doc:build-platforms)" "$rc" 0
like "each platform's build is announced" "$out" "PLATFORM 1/2: linux/amd64"$'\n'".*PLATFORM 2/2: linux/arm64"
is "the \$BUILDPLATFORM stage is built once: the second platform's RUN is CACHED" \
  "$(sed -n '/PLATFORM 2\/2/,$p' <<< "$out" | grep -A1 'RUN uname' | grep -c '^--> CACHED$')" 1
ix=$(img inspect multi:1 | jq -c '.[0].Index')
is "multi:1 is an OCI index" "$(img inspect multi:1 | jq -r '.[0].MediaType')" application/vnd.oci.image.index.v1+json
is "with two manifests, amd64 then arm64" "$(jq -c '[.manifests[] | .platform]' <<< "$ix")" \
  '[{"architecture":"amd64","os":"linux"},{"architecture":"arm64","os":"linux"}]'
is "the amd64 image's config says amd64" "$(plat_of multi:1 linux/amd64)" linux/amd64
is "the arm64 image's config says arm64" "$(plat_of multi:1 linux/arm64)" linux/arm64
is "the arm64 manifest is the index's second" \
  "$(img inspect --platform linux/arm64 multi:1 | jq -r '.[0].ManifestDigest')" "$(jq -r '.manifests[1].digest' <<< "$ix")"
env_of () { img inspect --platform "$1" multi:1 | jq -c '[.[0].Config.Env[] | select(test("^(T|B)[A-Z]="))]'; }
is "automatic ARGs for arm64 (doc:build-platform-args)" "$(env_of linux/arm64)" \
  '["TP=linux/arm64","TO=linux","TA=arm64","TV=","BP=linux/amd64","BO=linux","BA=amd64","BV="]'
is "automatic ARGs for amd64" "$(env_of linux/amd64)" \
  '["TP=linux/amd64","TO=linux","TA=amd64","TV=","BP=linux/amd64","BO=linux","BA=amd64","BV="]'
# FROM chose the arm64 busybox of the multi-arch base: its layer comes first
bb_arm=$(skopeo inspect --raw --tls-verify=false "docker://$H/library/busybox@$LAB_DIGEST_BUSYBOX_ARM64" | jq -r '.layers[0].digest')
is "FROM picks the arm64 busybox for arm64 (doc:build-platform-from)" \
  "$(img inspect --platform linux/arm64 multi:1 | jq -r '.[0].Manifest.layers[0].digest')" "$bb_arm"
is "... and the amd64 one for amd64" \
  "$(img inspect --platform linux/amd64 multi:1 | jq -r '.[0].Manifest.layers[0].digest')" "$LAB_DIGEST_BUSYBOX_LAYER"
is "images shows the index once" "$(img images --format '{{.Repository}}:{{.Tag}}' | grep -c '^multi:1$')" 1
id=$(img build -q --tls-verify=false --platform linux/amd64,linux/arm64 "$T_TMP/multi")
is "-q prints the index's digest, the same for the same build" \
  "$id" "$(img inspect multi:1 | jq -r '.[0].Digest')"
fails "a platform given twice is refused" img build --platform linux/arm64,linux/arm64/v8 "$T_TMP/multi"
like "... saying which" "$LAST_OUT" "'linux/arm64' is given twice"
fails "--output with several platforms is refused" img build --platform linux/amd64,linux/arm64 -o "$T_TMP/out" "$T_TMP/multi"

# --- push --all, and the peers' view --------------------------------------------
out=$(img push --all --tls-verify=false multi:1 "$H/$R/multi:1" 2>&1); rc=$?
is "push --all the index (doc:build-platform-push)" "$rc" 0
raw=$(skopeo inspect --raw --tls-verify=false "docker://$H/$R/multi:1")
is "skopeo inspect --raw: the index as stored" "$(jq -c '[.mediaType, (.manifests | length)]' <<< "$raw")" \
  '["application/vnd.oci.image.index.v1+json",2]'
is "... byte for byte: its digest is the stored index's" "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)" \
  "$(img inspect multi:1 | jq -r '.[0].Digest')"
is "skopeo sees the arm64 image's config" \
  "$(skopeo --override-arch arm64 inspect --tls-verify=false "docker://$H/$R/multi:1" | jq -r .Architecture)" arm64
ok "skopeo copy --all reads every platform" \
  skopeo copy -q --all --src-tls-verify=false "docker://$H/$R/multi:1" "oci:$T_TMP/copy:multi"
is "... two manifests in the copy" \
  "$(jq -r '.manifests[0].digest' "$T_TMP/copy/index.json" | cut -d: -f2 | xargs -I{} jq '.manifests | length' "$T_TMP/copy/blobs/sha256/{}")" 2
# pull --platform composes with what push --all wrote
(export IMGTOOL_ROOT=$T_TMP/root-pull
 img pull -q --tls-verify=false --platform linux/arm64 "$H/$R/multi:1" > /dev/null &&
   img inspect "$H/$R/multi:1" --platform linux/arm64 | jq -r '.[0].Architecture') > "$T_TMP/pulled"
is "pull --platform linux/arm64 of the pushed index" "$(cat "$T_TMP/pulled")" arm64
# an index in the store with only another platform's image: FROM pulls this one's
bf native <<EOF
FROM $BB
COPY Buildfile /bf
EOF
(export IMGTOOL_ROOT=$T_TMP/root-arm-only
 img pull -q --tls-verify=false --platform linux/arm64 "$BB" > /dev/null &&
   img build -q --tls-verify=false -t native "$T_TMP/native" > /dev/null &&
   img inspect native | jq -r '.[0].Architecture') > "$T_TMP/native.out" 2>&1
is "FROM an index pulled for arm64 only: a host build pulls the amd64 image" "$(cat "$T_TMP/native.out")" amd64

# --- no handler: one error that says how to get one --------------------------
bf uname <<EOF
FROM $BB
RUN uname -m > /arch && cat /arch
EOF
if [ -e "$BM/qemu-aarch64" ] || grep -qs 'b700$' "$BM"/* 2>/dev/null; then
  skip "the host has an aarch64 handler: the no-handler error is checked in a user namespace below"
else
  out=$(img build --tls-verify=false --platform linux/arm64 -t nope "$T_TMP/uname" 2>&1); rc=$?
  is "an arm64 RUN without a handler fails (doc:build-platform-binfmt)" "$rc" 1
  like "with one error line that says how to get one" "$(grep '^imgtool:' <<< "$out")" \
    "^imgtool: Buildfile:2: RUN: linux/arm64 executables need an emulator: binfmt_misc (is not mounted|has no handler for aarch64).*install qemu-user-static.*cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register$"
  fails "... and nothing is tagged" img inspect nope
fi

# --- (1) a private binfmt_misc instance in a user namespace -------------------
if [ -f "$CONF" ] && [ -x /usr/bin/qemu-aarch64-static ]; then
  # the store of the user namespace: busybox (both platforms) put there by skopeo
  U=$T_TMP/root-userns
  mkdir -p "$U"
  bf uname-local <<'EOF'
FROM busybox
RUN uname -m > /arch && cat /arch
EOF
  skopeo copy -q --all "oci:$LAB_FIXTURES/busybox:latest" "oci:$U/oci:docker.io/library/busybox:latest"
  cat > "$T_TMP/userns.sh" <<'EOF'
# in the user namespace: the first lines of output are the checks' values
set -u
export IMGTOOL_ROOT=$U
mount -t binfmt_misc binfmt_misc "$BM" || { echo "mount: failed"; exit 1; }
say () { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n' ' ')"; }
say handlers "$(ls "$BM" | grep -v -e register -e status | tr '\n' ' ')"
cat "$CONF" > "$BM/register"
out=$("$IMGTOOL" build --platform linux/arm64 -t u1 "$CTX" 2>&1); say build1 "$?"
say uname1 "$(grep -x aarch64 <<< "$out")"
out=$("$IMGTOOL" build --platform linux/amd64,linux/arm64 -t u2 "$CTX" 2>&1); say build2 "$?"
say run_arm "$("$IMGTOOL" run --rm --network none --platform linux/arm64 u2 cat /arch 2>&1)"
say run_amd "$("$IMGTOOL" run --rm --network none --platform linux/amd64 u2 cat /arch 2>&1)"
say run_base "$("$IMGTOOL" run --rm --network none --platform linux/arm64 busybox uname -m 2>&1)"
# a handler without F: its interpreter is not in the container's root
echo -1 > "$BM/qemu-aarch64"
sed 's/:OPF$/:OP/' "$CONF" > "$BM/register"
out=$("$IMGTOOL" build --no-cache --platform linux/arm64 "$CTX" 2>&1); say build_nof "$?"
say err_nof "$(grep '^imgtool:' <<< "$out")"
echo -1 > "$BM/qemu-aarch64"
out=$("$IMGTOOL" build --no-cache --platform linux/arm64 "$CTX" 2>&1); say build_none "$?"
say err_none "$(grep '^imgtool:' <<< "$out")"
out=$("$IMGTOOL" run --rm --network none --platform linux/arm64 busybox true 2>&1); say run_none "$?"
say run_none_out "$out"
EOF
  res=$(U=$U BM=$BM CONF=$CONF CTX=$T_TMP/uname-local IMGTOOL=$IMGTOOL \
    unshare -Urm --propagation private bash "$T_TMP/userns.sh" 2>&1)
  val () { sed -n "s/^$1=//p" <<< "$res" | sed 's/ $//'; }
  if [ "$(val handlers)" != "" ] || grep -q '^mount: failed' <<< "$res"; then
    skip "no private binfmt_misc instance in a user namespace here (kernel < 6.7?): $(head -3 <<< "$res")"
  else
    is "(1) an arm64 RUN in the user namespace's instance (doc:build-platform-qemu)" "$(val build1)" 0
    is "(1) uname -m in the arm64 RUN prints aarch64" "$(val uname1)" aarch64
    is "(1) --platform linux/amd64,linux/arm64 with a RUN each" "$(val build2)" 0
    is "(1) run --platform linux/arm64 runs the arm64 image (doc:run-platform)" "$(val run_arm)" aarch64
    is "(1) run --platform linux/amd64 the amd64 one" "$(val run_amd)" x86_64
    is "(1) run --platform linux/arm64 of the multi-arch base" "$(val run_base)" aarch64
    is "(1) a handler without F: the build fails" "$(val build_nof)" 1
    like "(1) ... saying the F flag is missing and how to register it" "$(val err_nof)" \
      "binfmt_misc handler 'qemu-aarch64' lacks the F flag, so the kernel would look for its interpreter '/usr/libexec/qemu-binfmt/aarch64-binfmt-P' inside the container's root, where it is not; register it with F: echo -1 > /proc/sys/fs/binfmt_misc/qemu-aarch64 && cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register$"
    is "(1) no handler: the build fails" "$(val build_none)" 1
    is "(1) ... with the error" "$(val err_none)" \
      "imgtool: Buildfile:2: RUN: linux/arm64 executables need an emulator: binfmt_misc has no handler for aarch64 executables; install qemu-user-static, then: cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register"
    is "(1) run without a handler: exec fails as docker's does (126)" "$(val run_none)" 126
    like "(1) ... after a warning that says why" "$(val run_none_out)" \
      "^WARNING: linux/arm64 executables need an emulator: binfmt_misc has no handler for aarch64.* imgtool: exec: 'true': Exec format error$"
  fi
else
  skip "qemu-user-static is not installed"
fi

# --- (2) as root: the handler in the host's instance, removed afterwards -----
# buildah 1.28 (as root, crun in the initial user namespace: the host's
# handlers too) builds the same Buildfile for linux/arm64 as the oracle.
host_bm () { # in a private mount namespace: binfmt_misc of the host's instance
  unshare -m --propagation private bash -c "
    mountpoint -q $BM || mount -t binfmt_misc binfmt_misc $BM || exit 3
    $1" 2>&1
}
bf peer <<'EOF'
FROM busybox
ARG TARGETARCH
RUN uname -m > /arch && echo "$TARGETARCH" > /ta && cat /arch
EOF
if ! [ -f "$CONF" ] || ! [ -x /usr/bin/qemu-aarch64-static ]; then
  skip "qemu-user-static is not installed"
elif [ "$(host_bm "[ -e $BM/qemu-aarch64 ] && echo there")" = there ]; then
  skip "the host has a qemu-aarch64 handler of its own: not touched"
else
  peers=0
  if command -v buildah > /dev/null && command -v umoci > /dev/null; then
    . "$TESTS_DIR/peers/env.sh"
    peers_env "$T_TMP/peers" > /dev/null && peers=1
  fi
  cleanup () {
    host_bm "[ -e $BM/qemu-aarch64 ] && echo -1 > $BM/qemu-aarch64" > /dev/null
    [ "$peers" = 0 ] || peers_cleanup
  }
  trap cleanup EXIT
  # the base both build FROM: the fixture's index, put in by skopeo
  skopeo copy -q --all "oci:$LAB_FIXTURES/busybox:latest" "oci:$IMGTOOL_ROOT/oci:docker.io/library/busybox:latest"
  cat > "$T_TMP/host.sh" <<'EOF'
# as root in a private mount namespace; the host's instance mounted
cat "$CONF" > "$BM/register" || exit 1
"$IMGTOOL" build --tls-verify=false --platform linux/arm64 -t rootful "$T_TMP/uname" &&
  "$IMGTOOL" run --rm --network none --platform linux/arm64 rootful cat /arch
echo rc=$?
"$IMGTOOL" build -q --platform linux/arm64 -t peer "$T_TMP/peer" > /dev/null; echo imgtool-peer=$?
if [ "$PEERS" = 1 ]; then
  . "$TESTS_DIR/peers/env.sh"
  peers_ns skopeo copy -q "oci:$LAB_FIXTURES/busybox:arm64" containers-storage:docker.io/library/busybox:latest &&
    peers_buildah bud -q --platform linux/arm64 --pull-never -t peer -f "$T_TMP/peer/Buildfile" "$T_TMP/peer" > /dev/null
  echo buildah-peer=$?
  peers_ns skopeo copy -q containers-storage:localhost/peer:latest "oci:$T_TMP/peer-layout:buildah"
fi
echo -1 > "$BM/qemu-aarch64"
EOF
  out=$(T_TMP=$T_TMP PEERS=$peers TESTS_DIR=$TESTS_DIR LAB_FIXTURES=$LAB_FIXTURES BM=$BM CONF=$CONF \
    IMGTOOL=$IMGTOOL host_bm "bash $T_TMP/host.sh")
  like "(2) as root, with the host's handler: the arm64 RUN runs under qemu" "$out" \
    $'\n'"aarch64"$'\n'".*Successfully tagged rootful:latest"
  like "(2) ... and run --platform linux/arm64 runs it" "$out" $'\n'"aarch64"$'\n'"rc=0"
  is "(2) the handler is gone again" "$(host_bm "ls $BM | grep -c qemu-aarch64")" 0
  like "(2) imgtool builds the peers' Buildfile for linux/arm64" "$out" "imgtool-peer=0"
  if [ "$peers" = 1 ]; then
    like "(2) buildah bud --platform linux/arm64 builds it too" "$out" "buildah-peer=0"
    skopeo copy -q "oci:$IMGTOOL_ROOT/oci:docker.io/library/peer:latest" "oci:$T_TMP/peer-layout:imgtool"
    for t in imgtool buildah; do umoci unpack --image "$T_TMP/peer-layout:$t" "$T_TMP/peer-$t" > /dev/null 2>&1; done
    got () { echo "$(cat "$T_TMP/peer-$1/rootfs/arch") $(cat "$T_TMP/peer-$1/rootfs/ta")"; }
    is "(2) imgtool: uname -m, TARGETARCH in the arm64 RUN" "$(got imgtool)" "aarch64 arm64"
    is "(2) ... the same as buildah's" "$(got imgtool)" "$(got buildah)"
    arch_of () { skopeo inspect --config "oci:$T_TMP/peer-layout:$1" | jq -r '"\(.os)/\(.architecture)"'; }
    is "(2) both configs say linux/arm64" "$(arch_of imgtool) $(arch_of buildah)" "linux/arm64 linux/arm64"
  else
    skip "buildah or umoci not installed: no peer comparison"
  fi
  trap - EXIT
  cleanup
fi

done_testing
