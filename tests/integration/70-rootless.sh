#!/bin/bash
# Rootless: an ordinary user with subordinate ranges pulls from the lab,
# runs, builds, execs, stops and removes containers in a user namespace of
# its own (docs/rootless.md). A test user is made for it and removed
# afterwards (with its ranges and files), and /dev/net/tun's mode is put
# back, whatever happens. Rootless podman, as the same user, is the
# oracle where it works here.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root (to make a test user)"; done_testing; exit; }
for c in useradd userdel newuidmap newgidmap runuser; do
  command -v $c > /dev/null || { skip "$c not installed"; done_testing; exit; }
done
[ -n "${LAB_HTTP:-}" ] || { skip "the lab is not up"; done_testing; exit; }

RL_USER=imgrl$$
RL_HOME=$(mktemp -d /tmp/imgtool-rl.XXXXXX)
TUN_MODE=$(stat -c %a /dev/net/tun 2>/dev/null)
RL_UID=
cleanup () {
  # the user's containers first (their monitors are its processes)
  [ -d "$RL_HOME/.local/share/imgtool/containers" ] &&
    as_user rm -f $(as_user ps -aq 2>/dev/null) > /dev/null 2>&1
  [ -n "$TUN_MODE" ] && chmod "$TUN_MODE" /dev/net/tun
  # what the test user still runs (podman's pause process, a remover)
  local p
  [ -n "$RL_UID" ] && for p in $(pgrep -u "$RL_UID"); do kill -9 "$p" 2>/dev/null; done
  [ -n "${DELEG:-}" ] && rmdir "$DELEG"/imgtool/* "$DELEG/imgtool" "$DELEG/login" "$DELEG" 2> /dev/null
  userdel "$RL_USER" > /dev/null 2>&1
  rm -rf "$RL_HOME"
  [ -n "$RL_UID" ] && rm -rf "/tmp/imgtool-run-$RL_UID"
}
trap cleanup EXIT
useradd -M -d "$RL_HOME" -s /bin/sh "$RL_USER" || { skip "useradd failed"; done_testing; exit; }
RL_UID=$(id -u "$RL_USER")
RL_GID=$(id -g "$RL_USER")
# Debian's useradd gives a new user 65536 ids; make sure of it
grep -q "^$RL_USER:" /etc/subuid || usermod --add-subuids 3000000000-3000065535 "$RL_USER"
grep -q "^$RL_USER:" /etc/subgid || usermod --add-subgids 3000000000-3000065535 "$RL_USER"
SUB=$(grep "^$RL_USER:" /etc/subuid | head -1 | cut -d: -f2)
SUBG=$(grep "^$RL_USER:" /etc/subgid | head -1 | cut -d: -f2)
chown "$RL_USER:" "$RL_HOME"
chmod 755 "$RL_HOME"
echo "{\"insecure-registries\": [\"$LAB_HTTP\"]}" > "$RL_HOME/config.json"
mkdir -p "$RL_HOME/ctx" "$RL_HOME/www"
printf 'FROM %s/library/busybox\nRUN mkdir /d && touch /d/f && chown 1000:1000 /d/f\nCOPY --chown=42:43 data /copied\n' \
  "$LAB_HTTP" > "$RL_HOME/ctx/Buildfile"
echo data > "$RL_HOME/ctx/data"
echo hello-rootless > "$RL_HOME/www/index.html"
chown -R "$RL_USER:" "$RL_HOME"

# as_user ARGS...: imgtool as the test user, with only what a login gives
as_user () {
  runuser -u "$RL_USER" -- env -i HOME="$RL_HOME" PATH=/usr/bin:/bin \
    IMGTOOL_CONFIG="$RL_HOME/config.json" ${RL_XDG:+XDG_RUNTIME_DIR=$RL_XDG} \
    "$IMGTOOL" "$@"
}
STORE=$RL_HOME/.local/share/imgtool
CG2=$(grep ' - cgroup2 ' /proc/self/mountinfo | awk '$4 == "/" {print $5; exit}')
BB=$LAB_HTTP/library/busybox

# ---- paths (doc:rootless-store doc:rootless-runtime-dir)
out=$(as_user pull -q "$BB" 2>&1); rc=$?
is "pull as the user" "$rc:$out" "0:$BB:latest"
ok "the store is ~/.local/share/imgtool" test -f "$STORE/oci/index.json"
is "the runtime dir is /tmp/imgtool-run-UID, 0700, the user's" \
  "$(stat -c '%a %U' "/tmp/imgtool-run-$RL_UID" 2>&1)" "700 $RL_USER"
# (doc:rootless-run-files)
is "without XDG_RUNTIME_DIR the store's locks are in /tmp/imgtool-run-UID" \
  "$(cd "/tmp/imgtool-run-$RL_UID" && ls | grep -c -- '-lock$')" 1
is "... not in the store" "$(ls "$STORE/lock" "$STORE/gc.lock" 2>/dev/null)" ""
RL_XDG=$RL_HOME/xdg
mkdir -p "$RL_XDG"; chown "$RL_USER:" "$RL_XDG"
as_user images -q > /dev/null 2>&1
ok "with XDG_RUNTIME_DIR: pull makes \$XDG_RUNTIME_DIR/imgtool" \
  as_user pull -q "$BB"
is "... mode 0700" "$(stat -c %a "$RL_XDG/imgtool" 2>&1)" 700
mkdir -p "$RL_HOME/xdg2/imgtool"; chown "$RL_USER:" "$RL_HOME/xdg2"
out=$(RL_XDG=$RL_HOME/xdg2 as_user run --rm --network none "$BB" true 2>&1); rc=$?
is "a runtime dir another user owns is refused: exit 125" "$rc" 125
is "... in one line naming it" "$out" \
  "imgtool: run: runtime directory '$RL_HOME/xdg2/imgtool' is not a directory owned by you (uid $RL_UID)"
rm -rf "$RL_HOME/xdg2"
mkdir -p "$RL_HOME/xdg3/imgtool"; chmod 0755 "$RL_HOME/xdg3/imgtool"
chown -R "$RL_USER:" "$RL_HOME/xdg3"
out=$(RL_XDG=$RL_HOME/xdg3 as_user run --rm --network none "$BB" true 2>&1); rc=$?
is "a runtime dir of mode 0755 is refused: exit 125" "$rc" 125
is "... in one line naming it" "$out" \
  "imgtool: run: runtime directory '$RL_HOME/xdg3/imgtool' has mode 0755: others may use it (chmod 0700 it, or remove it)"
rm -rf "$RL_HOME/xdg3"

# ---- the user namespace and unpacked layers (doc:rootless-userns
# doc:rootless-limits)
out=$(as_user run --rm --network none "$BB" sh -c 'id -u; cat /proc/self/uid_map' 2> "$T_TMP/err")
is "run: root inside" "$(echo "$out" | head -1)" 0
is "run: the user's id, then its subordinate range" \
  "$(echo "$out" | tail -n +2 | awk '{print $1, $2, $3}' | tr '\n' ';')" \
  "0 $RL_UID 1;1 $SUB 65536;"
is "the first run warns once that there are no limits" \
  "$(grep -c 'without resource limits' "$T_TMP/err")" 1
as_user run --rm --network none "$BB" true 2> "$T_TMP/err"
is "... and not again" "$(cat "$T_TMP/err")" ""
is "snapshots: root's files belong to the user on disk" \
  "$(stat -c %u "$STORE"/snapshots/*/bin/busybox | sort -u)" "$RL_UID"
out=$(as_user run --rm --memory 64m --network none "$BB" true 2>&1); rc=$?
is "--memory without a cgroup: exit 125" "$rc" 125
is "... one line naming the reason" "$out" \
  "imgtool: --memory: rootless containers get no cgroup here (no cgroup that holds this process ('$CG2/') is delegated to you; a delegated cgroup v2 subtree is needed, docs/rootless.md)"

# ---- a delegated cgroup v2 subtree (doc:rootless-cgroup-delegated): made
# as docs/rootless.md says, on this host's cgroup2 hierarchy; the user's
# commands run in a child of it (as a login would)
if [ -n "$CG2" ]; then
  DELEG=$CG2/imgtool-rl$$
  mkdir "$DELEG" "$DELEG/login"
  chown "$RL_USER:" "$DELEG" "$DELEG/cgroup.procs" "$DELEG/cgroup.subtree_control" "$DELEG/cgroup.threads"
  in_deleg () { ( echo "$BASHPID" > "$DELEG/login/cgroup.procs" && "$@" ); }
  is "run: the container is at the root of a cgroup of its own" \
    "$(in_deleg as_user run --rm --network none "$BB" cat /proc/self/cgroup 2>&1 | grep '^0::')" "0::/"
  is "... removed with the container" "$(find "$DELEG/imgtool" -mindepth 1 -type d 2>&1)" ""
  ok "run -d in the delegated cgroup" in_deleg as_user run -d --name rlcg --network none "$BB" sleep 300
  cid=$(as_user inspect -f '{{.Id}}' rlcg 2>/dev/null)
  pid=$(as_user inspect -f '{{.State.Pid}}' rlcg 2>/dev/null)
  is "its cgroup is <delegated>/imgtool/<id>" \
    "$(grep '^0::' "/proc/$pid/cgroup" 2>&1)" "0::/imgtool-rl$$/imgtool/$cid"
  is "exec joins the container's cgroup" \
    "$(in_deleg as_user exec rlcg cat /proc/self/cgroup 2>&1 | grep '^0::')" "0::/"
  as_user rm -f rlcg > /dev/null 2>&1
  is "rm removes its cgroup" "$(find "$DELEG/imgtool" -mindepth 1 -type d 2>&1)" ""
  for c in memory pids cpu; do
    flag=$(case $c in memory) echo "--memory 64m";; pids) echo "--pids-limit 10";; cpu) echo "--cpus 0.5";; esac)
    if grep -qw $c "$DELEG/cgroup.controllers"; then
      ok "$flag works in the delegated cgroup" in_deleg as_user run --rm --network none $flag "$BB" true
    else
      out=$(in_deleg as_user run --rm --network none $flag "$BB" true 2>&1); rc=$?
      is "$flag: the $c controller is not delegated here: exit 125" "$rc" 125
      is "... one line naming the cgroup and the controller" "$out" \
        "imgtool: ${flag% *}: the delegated cgroup '$DELEG' has no '$c' controller (its parent's cgroup.subtree_control must enable it, docs/rootless.md)"
    fi
  done
  out=$(as_user run --rm --memory 64m --network none "$BB" true 2>&1)
  like "outside the delegated subtree there is none" "$out" "no cgroup that holds this process"
else
  skip "no cgroup2 hierarchy mounted"
fi

# ---- lifecycle of the user's own containers; root sees none of them
# (doc:rootless-lifecycle)
ok "run -d" as_user run -d --name rl1 --network none "$BB" sh -c 'echo started; sleep 300'
ok "run -d --user 42" as_user run -d --name rl42 --user 42 --network none "$BB" sleep 300
is "ps lists them" "$(as_user ps --format '{{.Names}}' | sort | tr '\n' ' ')" "rl1 rl42 "
id1=$(as_user inspect -f '{{.Id}}' rl1 2>/dev/null)
is "monitor.lock and attach.sock are in \$XDG_RUNTIME_DIR/imgtool" \
  "$(cd "$RL_XDG/imgtool" && ls | grep -c -- '-monitor.lock$'):$(cd "$RL_XDG/imgtool" && find . -name '*-attach.sock' -type s | wc -l)" "2:2"
is "... not in the container's record" \
  "$(ls "$STORE/containers/$id1/monitor.lock" "$STORE/containers/$id1/attach.sock" 2>/dev/null)" ""
is "the store's locks too" "$(ls "$STORE/containers/lock" "$STORE/lock" 2>/dev/null)" ""
is "exec joins the container's namespaces" "$(as_user exec rl1 sh -c 'id -u; cat /proc/1/cmdline' 2>&1 | tr '\0\n' '  ')" "0 sleep 300 "
is "exec into a --user 42 container" "$(as_user exec rl42 id -u 2>&1)" 42
is "logs" "$(as_user logs rl1 2>&1)" started
is "root's ps does not show them" "$(img ps -aq)" ""
ok "stop (the process runs as a subordinate id)" as_user stop -t 1 rl42
ok "kill" as_user kill rl1
# kill returns once the signal is sent (docker's too): wait for the record
for _ in $(seq 100); do [ -z "$(as_user ps -q)" ] && break; sleep 0.1; done
ok "rm" as_user rm rl1 rl42
is "nothing left" "$(as_user ps -aq)" ""
is "... nor their run files" \
  "$(cd "$RL_XDG/imgtool" && ls | grep -c -- '-monitor.lock$\|-attach.sock$')" 0
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" > /dev/null 2>&1
img run -d --name rootbox --network none busybox sleep 300 > /dev/null
is "the user does not see root's container" "$(as_user ps -aq)" ""
fails "... nor stop it" as_user stop rootbox
img rm -f rootbox > /dev/null

# ---- build: in-namespace owners in the layer tar (doc:rootless-build-owners)
out=$(as_user build -q -t app:1 "$RL_HOME/ctx" 2>&1); rc=$?
is "build as the user" "$rc" 0
layer=$(as_user inspect app:1 2>/dev/null | jq -r '.[0].RootFS.Layers[-2]' | sed 's/^sha256://')
top=$(as_user inspect app:1 2>/dev/null | jq -r '.[0].RootFS.Layers[-1]' | sed 's/^sha256://')
blob_of () { # diff_id hex -> the blob that has it
  local b
  for b in "$STORE"/oci/blobs/sha256/*; do
    [ "$(zcat -f "$b" 2>/dev/null | sha256sum | cut -c1-64)" = "$1" ] && { echo "$b"; return; }
  done
}
is "RUN chown 1000:1000 stays 1000:1000 in the layer" \
  "$(zcat -f "$(blob_of "$layer")" | tar -tv --numeric-owner 2>/dev/null | awk '$6 ~ /d\/f$/ {print $2}')" "1000/1000"
is "COPY --chown=42:43 stays 42:43" \
  "$(zcat -f "$(blob_of "$top")" | tar -tv --numeric-owner 2>/dev/null | awk '$6 ~ /copied$/ {print $2}')" "42/43"
is "on disk the owner is the subordinate id" \
  "$(stat -c %u "$STORE"/snapshots/*/d/f 2>/dev/null | head -1)" "$((SUB + 999))"

# ---- networking: libslirp beside the container (doc:rootless-slirp
# doc:rootless-tun doc:rootless-low-port)
chmod 0600 /dev/net/tun
out=$(as_user run --rm "$BB" true 2>&1); rc=$?
is "no /dev/net/tun access: exit 125" "$rc" 125
like "... one line naming /dev/net/tun" "$out" "^imgtool: network 'slirp4netns': open '/dev/net/tun': permission denied [^
]*$"
chmod 0666 /dev/net/tun
is "the default network: tap0 10.0.2.100/24, route via 10.0.2.2, dns 10.0.2.3" \
  "$(as_user run --rm "$BB" sh -c 'ip -4 -o addr show tap0 | awk "{print \$4}"; ip route | grep default | cut -d" " -f1-3; cat /etc/resolv.conf' 2>&1 | tr '\n' ';')" \
  "10.0.2.100/24;default via 10.0.2.2;nameserver 10.0.2.3;"
ok "run -d -p 8080:80" as_user run -d --name web -p 8080:80 -v "$RL_HOME/www:/www" "$BB" httpd -f -p 80 -h /www
is "ps shows the port" "$(as_user ps --format '{{.Ports}}' 2>&1)" "0.0.0.0:8080->80/tcp"
for _ in $(seq 50); do curl -s 127.0.0.1:8080 > /dev/null && break; sleep 0.1; done
is "answered from the host" "$(curl -s 127.0.0.1:8080)" hello-rootless
is "--network host reaches it on 127.0.0.1" \
  "$(as_user run --rm --network host "$BB" wget -qO- http://127.0.0.1:8080 2>&1)" hello-rootless
as_user rm -f web > /dev/null
/usr/bin/python3 -m http.server 9977 --bind 127.0.0.1 --directory "$RL_HOME/www" > /dev/null 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do curl -s 127.0.0.1:9977 > /dev/null && break; sleep 0.1; done
fails "the host's loopback is not reachable by default" \
  as_user run --rm "$BB" wget -qO- http://10.0.2.2:9977/
is "... with slirp4netns:allow_host_loopback=true it is" \
  "$(as_user run --rm --network slirp4netns:allow_host_loopback=true "$BB" wget -qO- http://10.0.2.2:9977/ 2>&1)" hello-rootless
kill "$HTTP_PID"; wait "$HTTP_PID" 2>/dev/null
out=$(as_user run --rm -p 80:80 "$BB" true 2>&1); rc=$?
is "-p 80: exit 125" "$rc" 125
is "... one line naming the sysctl" "$out" \
  "imgtool: publish port 80: ports below $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) need root (net.ipv4.ip_unprivileged_port_start = $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)): use a higher port, or as root lower it with sysctl"
like "no libnftables line reaches the user" "$(as_user run --rm "$BB" true 2>&1)" "^$"

# ---- user namespaces disabled: one line naming the knob (doc:rootless-userns-disabled). A user namespace
# of root's own, mapped wide, where user.max_user_namespaces is set to 0.
out=$(/usr/bin/python3 - "$RL_UID" "$RL_GID" "$RL_HOME" "$IMGTOOL" "$BB" <<'EOF' 2>&1
import ctypes, os, sys
uid, gid, home, imgtool, image = sys.argv[1:]
libc = ctypes.CDLL(None, use_errno=True)
r, w = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        os._exit(3)
    os.write(w2, b"u")
    os.read(r, 1)
    open("/proc/sys/user/max_user_namespaces", "w").write("0")
    os.setgroups([])
    os.setresgid(int(gid), int(gid), int(gid))
    os.setresuid(int(uid), int(uid), int(uid))
    os.execve(imgtool, [imgtool, "run", "--rm", "--network", "none", image, "true"],
              {"HOME": home, "PATH": "/usr/bin:/bin", "IMGTOOL_CONFIG": home + "/config.json"})
os.close(r)
os.read(r2, 1)
# not the full identity map: that one reads as the initial namespace
for f in ("uid_map", "gid_map"):
    open("/proc/%d/%s" % (pid, f), "w").write("0 0 4294967294")
os.write(w, b"g")
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
EOF
); rc=$?
is "user.max_user_namespaces = 0: exit 125" "$rc" 125
is "... one line naming it and the fix" "$out" \
  "imgtool: run: rootless: user namespaces are disabled (user.max_user_namespaces = 0): as root, run 'sysctl -w user.max_user_namespaces=28633'"

# ---- rootless podman as the oracle: the same id map, the same owners from
# RUN chown and COPY --chown in a built image. crun refuses this host's
# hybrid cgroup layout while cgroup2 holds a controller, so podman runs in
# a mount namespace where cgroup2 is hidden (tests/peers/env.sh does the
# same for the benchmarks).
pmap=
if command -v podman > /dev/null; then
  pod () {
    unshare -m --propagation private sh -c '
      if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] &&
         [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
        mount -t tmpfs -o mode=0755 rl-no-cgroup2 /sys/fs/cgroup/unified
      fi
      u=$0 h=$1 x=$2; shift 2
      exec runuser -u "$u" -- env -i HOME="$h" PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$x" podman "$@"' \
      "$RL_USER" "$RL_HOME" "$RL_XDG" "$@"
  }
  if pod pull -q --tls-verify=false "$BB" > /dev/null 2>&1 &&
     pmap=$(pod run --rm --network none "$BB" cat /proc/self/uid_map 2>&1); then
    is "podman's id map is imgtool's" \
      "$(echo "$pmap" | awk '{print $1, $2, $3}' | tr '\n' ';')" "0 $RL_UID 1;1 $SUB 65536;"
    if pod build -q --network none -t app:pod -f "$RL_HOME/ctx/Buildfile" "$RL_HOME/ctx" > /dev/null 2>&1; then
      is "podman's build: the same owners" \
        "$(pod run --rm --network none localhost/app:pod stat -c %u:%g /d/f /copied 2>&1 | tr '\n' ' ')" "1000:1000 42:43 "
      is "imgtool's build: the same as podman's" \
        "$(as_user run --rm --network none app:1 stat -c %u:%g /d/f /copied 2>&1 | tr '\n' ' ')" "1000:1000 42:43 "
    else
      skip "rootless podman build does not work here"
    fi
    pod system reset -f > /dev/null 2>&1
  else
    echo "# podman: $pmap" | head -3
    skip "rootless podman does not run here"
  fi
else
  skip "podman not installed"
fi
done_testing
