#!/bin/bash
# imgtool as an ordinary user without subordinate ids (uid 65534 through
# setpriv, no groups): run and build work in a single-id user namespace
# (70-rootless covers a user with ranges); pull and images work in the
# user's own store. And libnftables never prints on its own: as root
# without CAP_NET_ADMIN a bridge run fails in one line too.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root (to become an ordinary user)"; done_testing; exit; }
command -v setpriv > /dev/null || { skip "setpriv not installed"; done_testing; exit; }

# The user's own directory: store, config, runtime dir, a build context.
U=$(mktemp -d /tmp/imgtool-user.XXXXXX)
chmod 755 "$U"
mkdir -p "$U/ctx" "$U/xdg"
printf 'FROM busybox\nRUN true\n' > "$U/ctx/Buildfile"
echo "{\"insecure-registries\": [\"${LAB_HTTP:-127.0.0.1:5000}\"]}" > "$U/config.json"
"$TESTS_DIR/fixtures/busybox-oci.sh" "$U/root" >/dev/null 2>&1
chown -R 65534:65534 "$U"
as_user () {
  setpriv --reuid=65534 --regid=65534 --clear-groups \
    env HOME="$U" XDG_RUNTIME_DIR="$U/xdg" IMGTOOL_CONFIG="$U/config.json" \
    DOCKER_CONFIG="$U/docker" REGISTRY_AUTH_FILE="$U/auth.json" \
    "$IMGTOOL" --root "$U/root" "$@"
}
is "the test user is not root" "$(setpriv --reuid=65534 --regid=65534 --clear-groups id -u)" 65534

# doc:rootless-single-id. A user without subordinate ids (nobody has
# none): a single-id user
# namespace, said once, as podman falls back; the image's files of other
# owners belong to root inside (podman's ignore_chown).
as_user run --rm --network none busybox sh -c 'id -u; cat /proc/self/uid_map' \
  > "$T_TMP/out" 2> "$T_TMP/err"
rc=$?
is "run as a user without ranges: exit 0" "$rc" 0
is "... root inside, its one id mapped" "$(awk '{print $1, $2, $3}' "$T_TMP/out" | sed 's/ *$//' | tr '\n' ';')" "0;0 65534 1;"
is "... the single-id map is said once" \
  "$(grep -c "rootless: no subordinate ids for 'nobody' in /etc/subuid and /etc/subgid: a single-id user namespace" "$T_TMP/err")" 1
as_user run --rm --network none busybox true 2> "$T_TMP/err"
is "... and not again" "$(cat "$T_TMP/err")" ""
is "... the snapshots belong to the user" "$(find "$U/root/snapshots" ! -user 65534 | head -3)" ""
out=$(as_user run --rm --network none -u 1:1 busybox id -u 2>&1); rc=$?
is "... an unmapped --user fails with 125" "$rc" 125
like "... in one line" "$out" "^imgtool: [^
]*$"
out=$(as_user build -q -t x "$U/ctx" 2>&1); rc=$?
like "build as a user without ranges" "$rc:$out" "^0:sha256:[0-9a-f]{64}$"
is "exec of an unknown container: docker's message" "$(as_user exec somebox true 2>&1)" \
  "imgtool: no such container: 'somebox'"
is "run --help still works for a user" "$(as_user run --help 2>&1 | head -1 | cut -c1-17)" "usage: imgtool ru"

# What needs no root works in the user's own store.
is "images as a user" "$(as_user images --format '{{.Repository}}:{{.Tag}}' 2>&1 | sort | tr '\n' ' ')" "busybox:latest x:latest "
if [ -n "${LAB_HTTP:-}" ]; then
  out=$(as_user pull -q "$LAB_HTTP/library/busybox" 2>&1); rc=$?
  is "pull as a user" "$rc:$out" "0:$LAB_HTTP/library/busybox:latest"
  like "the pulled image is listed" "$(as_user images --format '{{.Repository}}' 2>&1)" "$LAB_HTTP/library/busybox"
  is "its files belong to the user" "$(find "$U/root" ! -user 65534 | head -3)" ""
else
  skip "the lab is not up: pull as a user not checked"
fi
is "ps as a user" "$(as_user ps -aq 2>&1)" ""

# libnftables prints "Operation not permitted (you must be root)" to
# stderr itself when the kernel refuses: imgtool must not let it.
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
  "$IMGTOOL" run --rm busybox true > "$T_TMP/out" 2> "$T_TMP/err"
rc=$?
is "root without CAP_NET_ADMIN: a bridge run fails with 125" "$rc" 125
is "... in exactly one line" "$(wc -l < "$T_TMP/err")" 1
like "... imgtool's own" "$(head -1 "$T_TMP/err")" "^imgtool: network 'bridge': .*Operation not permitted$"

rm -rf "$U"
done_testing
