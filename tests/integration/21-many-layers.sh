#!/bin/bash
# An image of 120+ layers runs: made without imgtool (GNU tar and umoci
# raw add-layer, one small file per layer; umoci 0.4.7's `insert` writes
# truncated tar streams, which imgtool rightly refuses), copied into the
# store with skopeo. mount(2)'s
# one-page option string would stop at ~50 such layers; the runtime mounts
# them with one "lowerdir+" each (layers/overlay.c).
. "$(dirname "$0")/../lib.sh"

N=120
work=$T_TMP/many
mkdir -p "$work/base/bin"
cp "$(command -v busybox || echo /bin/busybox)" "$work/base/bin/busybox"
for a in sh cat ls seq true; do ln -s busybox "$work/base/bin/$a"; done
(
  set -e
  cd "$work"
  add () { # dir: one layer with what dir holds
    tar -C "$1" -cf layer.tar .
    umoci raw add-layer --image L:many layer.tar
    rm -rf "$1" layer.tar
  }
  umoci init --layout L
  umoci new --image L:many
  add base
  for i in $(seq 0 $((N - 1))); do
    mkdir d; echo "file $i" > "d/f$i"; add d
  done
  # two more on top: a newer /f5, and /f7 deleted (an OCI whiteout)
  mkdir d; echo "file 5 v2" > d/f5; add d
  mkdir d; : > d/.wh.f7; add d
) >"$T_TMP/umoci.log" 2>&1
ok "umoci made the image" test -d "$work/L/blobs"
layers=$(umoci stat --image "$work/L:many" --json | python3 -c \
  'import json, sys; print(sum(1 for h in json.load(sys.stdin)["history"] if not h.get("empty_layer")))')
is "it has $((N + 3)) layers" "$layers" "$((N + 3))"
mkdir -p "$IMGTOOL_ROOT/oci"
ok "skopeo copies it into the store" \
  skopeo copy "oci:$work/L:many" "oci:$IMGTOOL_ROOT/oci:docker.io/library/many:latest"

out=$(img run --rm --pull never many cat /f119 2>&1); rc=$?
is "run --rm many cat /f119" "$rc:$out" "0:file 119"
want=$(for i in $(seq 0 $((N - 1))); do
  case $i in 5) echo "file 5 v2" ;; 7) ;; *) echo "file $i" ;; esac
done)
got=$(img run --rm --pull never many sh -c "for i in \$(seq 0 $((N - 1))); do [ -e /f\$i ] && cat /f\$i; done" 2>&1)
is "every layer's file is visible, the top layer's /f5, no /f7" "$got" "$want"
is "the whiteout hides /f7" "$(img run --rm --pull never many ls /f7 2>&1 >/dev/null | grep -c 'No such file')" 1
is "the root has the $((N - 1)) files" "$(img run --rm --pull never many sh -c 'ls -d /f* | wc -l' 2>&1)" "$((N - 1))"
ok "a second run reuses the snapshots" img run --rm --pull never many true
is "one snapshot per layer" "$(ls "$IMGTOOL_ROOT/snapshots" | grep -c '^[0-9a-f]\{64\}$')" "$((N + 3))"
is "no mounts of this store left on the host" "$(grep -c "$IMGTOOL_ROOT" /proc/self/mountinfo)" 0

done_testing
