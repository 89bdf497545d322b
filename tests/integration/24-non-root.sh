#!/bin/bash
# imgtool as an ordinary user (uid 65534 through setpriv, no groups), until
# rootless containers land: run, build and exec say in one line that they
# need root, with docker's exit codes; pull and images work in the user's
# own store. And libnftables never prints on its own: as root without
# CAP_NET_ADMIN a bridge run fails in one line too.
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

# refused CMD WANT_RC ARGS...: one line of stderr, nothing on stdout
refused () {
  local cmd=$1 want=$2; shift 2
  as_user "$@" > "$T_TMP/out" 2> "$T_TMP/err"
  local rc=$?
  is "$cmd as a user: exit $want" "$rc" "$want"
  is "$cmd as a user: exactly one line of stderr" "$(wc -l < "$T_TMP/err")" 1
  is "$cmd as a user: that line" "$(cat "$T_TMP/err")" \
    "imgtool: $cmd: needs root for now (rootless is not supported yet)"
  is "$cmd as a user: nothing on stdout" "$(cat "$T_TMP/out")" ""
}
refused run 125 run --rm busybox true
refused run 125 run --rm --network none busybox true
refused run 125 run -d busybox sleep 10
refused build 1 build -t x "$U/ctx"
refused exec 125 exec somebox true
is "no container was recorded" "$(ls -A "$U/root/containers" 2>/dev/null)" ""
is "run --help still works for a user" "$(as_user run --help 2>&1 | head -1 | cut -c1-17)" "usage: imgtool ru"

# What needs no root works in the user's own store.
is "images as a user" "$(as_user images --format '{{.Repository}}:{{.Tag}}' 2>&1)" "busybox:latest"
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
