#!/bin/bash
# Devices as docker users expect them: --device HOST[:CONTAINER][:PERMS]
# (a node in the container's /dev plus a device cgroup rule), --privileged
# (every host device, every access), and the device cgroup stopping a
# container that mknods a block device of the host. The block device is a
# loop device over a file with known content, made for the test (the
# sandbox may refuse even root the host's own disk).
. "$(dirname "$0")/../lib.sh"

"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture image in the store" test -f "$IMGTOOL_ROOT/oci/index.json"
run () { img run --rm --network none "$@"; }

# --- --device with a device the defaults already allow ---
# doc:device-option
is "--device HOST:CONTAINER reads bytes" \
  "$(run --device /dev/zero:/dev/myzero busybox sh -c 'head -c 4 /dev/myzero | od -An -tx1')" \
  " 00 00 00 00"
like "as a node with the host's numbers and mode" \
  "$(run --device /dev/zero:/dev/myzero busybox ls -l /dev/myzero)" \
  '^crw-rw-rw- +1 root +root +1, +5 .* /dev/myzero$'
is "parents are made, outside /dev too" \
  "$(run --device /dev/null:/opt/dev/n busybox sh -c 'echo x > /opt/dev/n && echo ok')" "ok"
is "without --device there is no such node" \
  "$(run busybox sh -c 'test -e /dev/myzero && echo yes || echo no')" "no"
# doc:dev-nodes
is "/dev has its 14 usual entries" "$(run busybox ls /dev | wc -l)" 14

# --- bad --device: one line, exit 125 ---
bad () { # what, spec, message regex
  local out rc
  out=$(run --device "$2" busybox true 2>&1); rc=$?
  is "$1: exit 125" "$rc" 125
  is "$1: one line" "$(echo "$out" | wc -l)" 1
  like "$1: says why" "$out" "$3"
}
bad "a missing host device" /dev/nonexistent "^imgtool: --device '/dev/nonexistent': No such file or directory$"
bad "a regular file" /etc/hosts "^imgtool: --device '/etc/hosts': not a device node$"
bad "bad permissions" /dev/zero:/dev/z:rwx "^imgtool: invalid --device '/dev/zero:/dev/z:rwx': bad permissions 'rwx'"
bad "a relative container path" /dev/zero:dev/z "'dev/z' is not an absolute path"

# --- a block device of the host ---
DISK=$T_TMP/disk.img
LOOP=
printf 'imgtool-devices-%s\n' "$$" > "$T_TMP/magic"
if dd if=/dev/zero of="$DISK" bs=1M count=1 status=none &&
   dd if="$T_TMP/magic" of="$DISK" conv=notrunc status=none; then
  LOOP=$(losetup -f --show "$DISK" 2>/dev/null)
fi
trap '[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null' EXIT
MAGIC=$(cat "$T_TMP/magic")
if [ -z "$LOOP" ] || [ "$(head -n1 "$LOOP" 2>/dev/null)" != "$MAGIC" ]; then
  skip "no loop device here (losetup): no host block device to test with"
else
  read -r MAJ MIN < <(stat -c '%t %T' "$LOOP" | while read -r a b; do echo $((16#$a)) $((16#$b)); done)
  MODE=$(stat -c %A "$LOOP")
  echo "# block device: $LOOP ($MAJ:$MIN, $MODE)"
  is "--device a block device: the container reads it" \
    "$(run --device "$LOOP:/dev/xdisk" busybox head -n1 /dev/xdisk)" "$MAGIC"
  out=$(run --device "$LOOP:/dev/xdisk:r" busybox sh -c \
    'head -n1 /dev/xdisk; echo x | dd of=/dev/xdisk conv=notrunc 2>&1 | head -n1')
  like "with :r it reads but may not write" "$out" "^$MAGIC"$'\n'".*Operation not permitted"
  is "the host's disk is untouched" "$(head -n1 "$LOOP")" "$MAGIC"

  # doc:device-privileged
  # --privileged: every host device, readable
  is "--privileged sees the host's block device" \
    "$(run --privileged busybox sh -c "ls -l $LOOP" | awk '{print $1 $5 $6}')" \
    "$MODE$MAJ,$MIN"
  is "and reads a sector of it" \
    "$(run --privileged busybox sh -c "dd if=$LOOP bs=512 count=1 2>/dev/null | head -n1")" "$MAGIC"
  like "--privileged /dev has the host's devices" "$(run --privileged busybox ls /dev | wc -l)" \
    '^([2-9][0-9]|[0-9]{3,})$'
  is "but not its pts, console or a second ptmx" \
    "$(run --privileged busybox sh -c 'ls /dev/pts | grep -v ptmx; test -e /dev/console && echo console; readlink /dev/ptmx')" \
    "pts/ptmx"

  # without --privileged, mknod works (with CAP_MKNOD) but open does not
  out=$(run --cap-add MKNOD busybox sh -c \
    "mknod /tmp/b b $MAJ $MIN && echo made; head -n1 /tmp/b 2>&1")
  like "a mknod'ed block device cannot be opened" "$out" \
    $'^made\n.*Operation not permitted'
  out=$(run --privileged busybox sh -c "mknod /tmp/b b $MAJ $MIN && head -n1 /tmp/b")
  is "but can with --privileged" "$out" "$MAGIC"

  # exec joins the container's /dev and device cgroup
  id=$(img run -d --network none --device "$LOOP:/dev/xdisk:r" busybox sleep 600)
  is "exec into a --device container reads the device" \
    "$(img exec "$id" head -n1 /dev/xdisk 2>&1)" "$MAGIC"
  like "and has its permissions" \
    "$(img exec "$id" sh -c 'echo x | dd of=/dev/xdisk conv=notrunc 2>&1')" \
    "Operation not permitted"
  is "exec sees the node with the host's numbers" \
    "$(img exec "$id" ls -l /dev/xdisk | awk '{print $1 $5 $6}')" "$MODE$MAJ,$MIN"
  img rm -f "$id" >/dev/null 2>&1
fi

done_testing
