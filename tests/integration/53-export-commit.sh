#!/bin/bash
# imgtool export and commit: a running and a stopped container's file
# system read from its layers (volumes, binds and tmpfs left out, /proc and
# /sys empty, deleted and replaced lower files hidden), checked with
# python's tarfile and against podman export of the same container as an
# oracle; commit's layer (whiteouts, opaque directories), -a -m -c in
# inspect and history, reproducible IDs, the freezer, and the committed
# image run by imgtool and by podman.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/env.sh"
trap kill_recorded_containers EXIT

PY=/usr/bin/python3
W=$T_TMP/w
mkdir -p "$W/vol"
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "busybox in the store (made without imgtool)" img inspect busybox

# What the containers do: a new file, a deleted lower file (a whiteout),
# a replaced lower directory (opaque), an owner and mode, a symlink, a
# fifo; files in a bind mount and a tmpfs; /proc and /sys as mounted.
CHANGES='echo hi > /new; rm /bin/ls; rm -rf /home; mkdir /home; echo n > /home/new;'\
' mkdir /data; chown 1000:1000 /data; chmod 700 /data; ln -s /new /lnk; mkfifo /f;'\
' echo x > /vol/f; echo y > /tm/f; echo 1 > /vol/ready'

# tarinfo.py TAR: one line per entry (name type mode uid gid size link
# sha256), sorted; a directory's name without its trailing slash.
cat > "$W/tarinfo.py" <<'PY'
import hashlib, sys, tarfile
t = tarfile.open(sys.argv[1])
for m in sorted(t.getmembers(), key=lambda m: m.name):
    data = t.extractfile(m).read() if m.isfile() else b""
    print(m.name.rstrip("/"), m.type.decode(), oct(m.mode), m.uid, m.gid,
          m.size, m.linkname or "-", hashlib.sha256(data).hexdigest()[:12])
PY
tarinfo () { $PY "$W/tarinfo.py" "$1"; }
entry () { grep "^$2 " <<< "$1" | cut -d' ' -f2-5; }

# ---- export of a running container ------------------------------------
img run -d --name web --network none -v "$W/vol:/vol" --tmpfs /tm busybox \
  sh -c "$CHANGES; exec cat /f" > /dev/null
for _ in $(seq 300); do [ -f "$W/vol/ready" ] && break; sleep 0.1; done
ok "the running container made its changes" test -f "$W/vol/ready"
img export web > "$W/web.tar"; rc=$?
is "export of a running container to stdout" "$rc" 0
L=$(tarinfo "$W/web.tar")
is "a new file, with its content" "$(tar -xOf "$W/web.tar" new)" hi
# doc:export-merged
is "a deleted lower file is not there (whiteout)" "$(grep -c '^bin/ls ' <<< "$L")" 0
is "the rest of the lower directory is" "$(entry "$L" bin/sh)" "2 0o120777 0 0"
is "a replaced lower directory shows only its new content (opaque)" \
  "$(grep '^home/' <<< "$L" | cut -d' ' -f1)" "home/new"
# doc:export-owners
is "owner and mode as in the container" "$(entry "$L" data)" "5 0o40700 1000 1000"
is "a symlink" "$(grep '^lnk ' <<< "$L" | cut -d' ' -f2,7)" "2 /new"
is "a fifo" "$(entry "$L" f | cut -d' ' -f1)" 6
is "the bind mount's point is there, empty" "$(grep -c '^vol[ /]' <<< "$L") $(entry "$L" vol | cut -d' ' -f1)" "1 5"
is "the tmpfs's point is there, empty" "$(grep -c '^tm[ /]' <<< "$L") $(entry "$L" tm | cut -d' ' -f1)" "1 5"
# doc:export-proc-sys
is "/proc and /sys are empty directories" "$(grep -E '^(proc|sys)' <<< "$L" | cut -d' ' -f1,2)" "proc 5
sys 5"
is "every lower file is there once" "$(cut -d' ' -f1 <<< "$L" | sort | uniq -d)" ""
ok "export -o FILE" img export -o "$W/web-o.tar" web
cmp -s "$W/web.tar" "$W/web-o.tar" && same=yes || same=no
is "-o writes what stdout gets" "$same" yes
out=$($PY -c 'import pty,sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)' "$IMGTOOL" export web 2>&1 </dev/null)
like "export refuses a terminal" "$out" "cowardly refusing to save to a terminal"
out=$(img export -o "$W/none.tar" nosuch 2>&1); rc=$?
is "export of no such container" "$rc $out" "1 imgtool: no such container: 'nosuch'"
is "no file for it" "$(ls "$W" | grep -c none)" 0

# ---- commit -----------------------------------------------------------
PID=$(img inspect --format '{{.State.Pid}}' web)
# A process blocked opening a fifo sleeps without waking: only the
# freezer's wake-up (to freeze it) adds a voluntary context switch.
switches () { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$PID/status"; }
# (asleep in cat's open of the fifo before counting)
for _ in $(seq 300); do
  [ "$(cat "/proc/$PID/comm")" = cat ] && grep -q '^State:.*sleeping' "/proc/$PID/status" && break
  sleep 0.1
done
s0=$(switches)
id=$(img commit --pause=false web nopause:1 2>&1); rc=$?
is "commit --pause=false" "$rc" 0
# doc:commit-pause
is "--pause=false: the container was never frozen" "$(switches)" "$s0"
ok "commit --no-pause (current docker's spelling)" img commit --no-pause web nopause:2
is "--no-pause: never frozen either" "$(switches)" "$s0"
out=$(img commit -c 'RUN true' web bad:1 2>&1); rc=$?
is "-c RUN is refused" "$rc $out" "1 imgtool: commit 'web': RUN is not a valid change command"
is "nothing paused for it" "$(switches)" "$s0"
id=$(img commit -a 'Jane <j@x>' -m 'configured' -c 'ENV GREETING=hello' \
  -c 'CMD ["cat","/new"]' -c 'EXPOSE 8080' web snap:1 2>&1); rc=$?
is "commit (pausing by default)" "$rc" 0
like "prints the new image ID" "$id" '^sha256:[0-9a-f]{64}$'
s1=$(switches)
like "the container was frozen meanwhile (the freezer woke it)" "$((s1 - s0))" '^[1-9][0-9]*$'
is "and is running afterwards" "$(img inspect --format '{{.State.Status}}' web)" running
for st in /sys/fs/cgroup/freezer/imgtool/*/freezer.state; do
  [ -f "$st" ] && is "its freezer cgroup is thawed" "$(cat "$st")" THAWED
done
FZ=/sys/fs/cgroup/freezer/imgtool/$(img inspect --format '{{.Id}}' web)
if [ -f "$FZ/freezer.state" ]; then
  # paused already (as `pause` would leave it): left paused, not thawed
  echo FROZEN > "$FZ/freezer.state"
  for _ in $(seq 100); do [ "$(cat "$FZ/freezer.state")" = FROZEN ] && break; sleep 0.1; done
  ok "commit of a frozen container" img commit -m frozen web frozen:1
  is "it stays frozen" "$(cat "$FZ/freezer.state")" FROZEN
  echo THAWED > "$FZ/freezer.state"
else
  skip "no cgroup v1 freezer: a frozen container's commit"
fi
is "the image ID is the config's digest" "$(img inspect --format '{{.Id}}' snap:1)" "$id"
cfg=$(img inspect snap:1 | $PY -c '
import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d
c=d["ImageConfig"]; k=c["config"]; h=c["history"][-1]
print(c["author"], "|", c["comment"], "|", k["Cmd"], "|", "GREETING=hello" in k["Env"], sorted(k["ExposedPorts"]))
print(h["created_by"], "|", h["author"], "|", h["comment"], "|", h.get("empty_layer", False))
print(len(c["rootfs"]["diff_ids"]), len(d["Manifest"]["layers"]))')
# doc:commit-config
is "-a, -m and -c in the config" "$(sed -n 1p <<< "$cfg")" \
  "Jane <j@x> | configured | ['cat', '/new'] | True ['8080/tcp']"
is "history: docker's commit entry (created_by the container's command)" \
  "$(sed -n 2p <<< "$cfg")" "sh -c $CHANGES; exec cat /f | Jane <j@x> | configured | False"
is "one layer more than busybox" "$(sed -n 3p <<< "$cfg")" "2 2"
is "the committed image runs its CMD" "$(img run --rm --network none snap:1 2>&1)" hi
is "the deleted file is not in it" "$(img run --rm --network none snap:1 sh -c 'ls /bin/ls 2>&1; ls /home' 2>&1)" \
  "ls: /bin/ls: No such file or directory
new"
is "nor the bind mount's or the tmpfs's files" \
  "$(img run --rm --network none snap:1 sh -c 'ls -A /vol /tm' 2>&1)" "/tm:

/vol:"
is "owner, mode and the -c ENV in the committed image" \
  "$(img run --rm --network none snap:1 sh -c 'stat -c "%u %a" /data; echo $GREETING' 2>&1)" "1000 700
hello"
top=$(img inspect snap:1 | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["Manifest"]["layers"][-1]["digest"])')
layer=$(tar -tzf "$IMGTOOL_ROOT/oci/blobs/sha256/${top#sha256:}" | sort)
# doc:commit-layer
is "the layer has docker's whiteouts and opaque marker, no mount point the runtime made" \
  "$(grep -E '(^|/)\.wh\.|^(proc|sys|dev|etc)/' <<< "$layer")" "bin/.wh.ls
home/.wh..wh..opq"
n0=$(img images -q | wc -l)
out=$(img commit --pause=maybe web x:1 2>&1); rc=$?
is "a --pause that is not a boolean" "$rc" 2
fails "commit of no such container" img commit nosuch x:1
ok "commit without a name" img commit -m "no name" web
is "makes an untagged image" "$(( $(img images -q | wc -l) - n0 ))" 1
# the container is alive: it opens the fifo when we write into it, and ends
echo done > "/proc/$PID/root/f"
for _ in $(seq 300); do
  [ "$(img inspect --format '{{.State.Status}}' web)" = exited ] && break; sleep 0.1; done
is "the container went on after the commits" "$(img logs web 2>&1)" done
ID=$(img inspect --format '{{.Id}}' web)
ok "rm of the committed container" img rm web
is "its freezer cgroup went with it" "$(ls -d /sys/fs/cgroup/freezer/imgtool/"$ID" /sys/fs/cgroup/imgtool/"$ID" 2>/dev/null)" ""

# ---- a stopped container; reproducible commits --------------------------
rm -f "$W/vol/ready"
img run --name stopped --network none -v "$W/vol:/vol" --tmpfs /tm busybox sh -c "$CHANGES" >/dev/null 2>&1
ok "export of a stopped container" img export -o "$W/stopped.tar" stopped
is "its file system is the running one's (names, types, modes, owners, contents)" \
  "$(tarinfo "$W/stopped.tar")" "$L"
a=$(img commit --source-date-epoch 0 stopped repro:1 2>&1)
b=$(img commit --source-date-epoch 0 stopped repro:2 2>&1)
like "commit --source-date-epoch" "$a" '^sha256:'
# doc:commit-reproducible
is "two commits of the same changes: the same image ID" "$b" "$a"
is "created is the epoch" "$(img inspect --format '{{.Created}}' repro:1)" "1970-01-01T00:00:00Z"
is "SOURCE_DATE_EPOCH does the same" "$(SOURCE_DATE_EPOCH=0 img commit stopped repro:3 2>&1)" "$a"
ok "commit of an unchanged container" img run --name same --network none busybox true
ok "commit it" img commit -m nothing same same:1
is "adds no layer, an empty_layer history entry" "$(img inspect same:1 | $PY -c '
import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d
c=d["ImageConfig"]; print(len(c["rootfs"]["diff_ids"]), c["history"][-1].get("empty_layer"))')" "1 True"

# ---- the peers --------------------------------------------------------
need () { command -v "$1" > /dev/null; }
if [ "$(id -u)" = 0 ] && need podman && peers_env "$T_TMP/peers"; then
  trap 'kill_recorded_containers; peers_cleanup' EXIT
  img save -o "$W/bb.tar" busybox:latest
  ok "busybox into podman (the same layers)" peers_podman load -i "$W/bb.tar"
  mkdir -p "$W/pvol"
  ok "podman runs the same container" peers_ns env -u REGISTRY_AUTH_FILE -u DOCKER_CONFIG bash -c '
    podman run --name stopped --cgroup-parent "/$PEERS_CGROUP" --network=none \
      -v "$0:/vol" --tmpfs /tm docker.io/library/busybox:latest sh -c "$1" &&
    podman export -o "$2" stopped' "$W/pvol" "$CHANGES" "$W/podman.tar"
  # what each runtime adds for itself: podman's /run/.containerenv and
  # /etc/mtab, the files and mount points both bind over, and /dev
  own='^(run|run/\.containerenv|etc/mtab|etc/hostname|etc/hosts|etc/resolv\.conf|dev|vol|tm) '
  is "imgtool export equals podman export (names, types, modes, owners, contents)" \
    "$(tarinfo "$W/stopped.tar" | grep -Ev "$own")" "$(tarinfo "$W/podman.tar" | grep -Ev "$own")"
  img save -o "$W/snap.tar" snap:1
  ok "podman loads the committed image" peers_podman load -i "$W/snap.tar"
  is "podman runs it" "$(peers_podman run --rm --network=none docker.io/library/snap:1 2>&1)" hi
  is "without the deleted file, with the opaque directory" \
    "$(peers_podman run --rm --network=none docker.io/library/snap:1 sh -c 'ls /bin/ls 2>&1; ls /home' 2>&1)" \
    "ls: /bin/ls: No such file or directory
new"
else
  skip "podman or root missing: peer checks"
fi
done_testing
