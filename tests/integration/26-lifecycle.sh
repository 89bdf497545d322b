#!/bin/bash
# Containers that live on (docs/lifecycle.md): create and start with their
# own writable layer, wait, restart, rename, pause/unpause through the
# freezer, attach, restart policies with their count, stop and kill
# respected, start --all as the boot hook, and the record left consistent
# when a monitor or a start is killed. No timings: every wait polls with a
# generous limit, and a frozen process is checked by what it cannot do.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap kill_recorded_containers EXIT

"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
ok "fixture image in the store" img inspect busybox

cid () { img inspect -f '{{.Id}}' "$1"; }
field () { img inspect -f "$2" "$1" 2>&1; }
pid_of () { jq -r .pid "$R/containers/$(cid "$1")/state.json"; }
wait_for () { for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
status_is () { [ "$(field "$1" '{{.State.Status}}')" = "$2" ]; }
# The pid holding a container's monitor.lock (its monitor), from /proc/locks.
monitor_pid () {
  local ino
  ino=$(stat -c %i "$R/containers/$(cid "$1")/monitor.lock") || return 1
  awk -v i=":$ino\$" '$2 == "FLOCK" && $6 ~ i { print $5; exit }' /proc/locks
}

# --- create, start: the container's own files are kept ----------------------
# doc:create-prints-id doc:start-keeps-files
id=$(img create --name c1 --network none busybox sh -c 'echo x >> /count; exit $(wc -l < /count)')
like "create prints the full ID" "$id" '^[0-9a-f]{64}$'
is "created, not started" "$(field c1 '{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.StartedAt}}')" \
  "created false 0 0001-01-01T00:00:00Z"
like "ps -a says Created" "$(img ps -a --format '{{.Names}} {{.Status}}')" "c1 Created"
fails "ps without -a does not list it" sh -c "'$IMGTOOL' ps --format '{{.Names}}' | grep -qx c1"
img start -a c1; rc=$?
is "start -a runs it in the foreground: its status" "$rc" 1
img start -a c1; rc=$?
is "a second start finds its own file (2 lines)" "$rc" 2
is "start (detached) prints the name" "$(img start c1)" c1
# doc:wait-status
is "wait prints the exit status" "$(img wait c1)" 3
is "inspect: exited 3" "$(field c1 '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}')" "exited 3 false"
like "FinishedAt is set" "$(field c1 '{{.State.FinishedAt}}')" '^20[0-9-]+T'
img create --name lg --network none busybox echo logged >/dev/null
img start lg >/dev/null; img wait lg >/dev/null
is "a detached start of a created container is logged" "$(img logs lg)" logged
fails "create -d is refused" img create -d busybox true
fails "create needs an image" img create

# wait of several: one line each, in the order given; a missing one named
img run -d --name w1 --network none busybox sh -c 'sleep 1; exit 5' >/dev/null
img run -d --name w2 --network none busybox sh -c 'exit 7' >/dev/null
out=$(img wait w1 nosuch w2 2>"$T_TMP/wait.err"); rc=$?
is "wait w1 nosuch w2: the statuses in order" "$out" $'5\n7'
is "wait with a missing one exits 1" "$rc" 1
like "and names it" "$(cat "$T_TMP/wait.err")" "wait 'nosuch': no such container"
is "wait of a created container returns at once" "$(img create --network none busybox true | xargs "$IMGTOOL" wait)" 0

# --- restart -------------------------------------------------------------------
img run -d --name rs --network none busybox sh -c 'echo run >> /runs; sleep 1000' >/dev/null
ok "rs runs" wait_for status_is rs running
p1=$(pid_of rs)
is "restart prints the name" "$(img restart -t 1 rs)" rs
ok "running again" wait_for status_is rs running
p2=$(pid_of rs)
[ "$p1" != "$p2" ]; is "with a new process" "$?" 0
is "its files kept: two runs recorded" "$(img exec rs cat /runs | wc -l)" 2
is "restart of an exited one starts it" "$(img restart w2)" w2
is "w2 ran again" "$(img wait w2)" 7

# --- rename ----------------------------------------------------------------------
# doc:rename
ok "rename a running container" img rename rs rs2
is "the new name finds it" "$(field rs2 '{{.Name}} {{.State.Status}}')" "/rs2 running"
fails "the old one does not" img inspect rs
fails "a name in use is refused" img rename rs2 c1
like "with docker's conflict message" "$LAST_OUT" 'the container name "/c1" is already in use'
fails "the same name is refused" img rename rs2 rs2
like "as docker says" "$LAST_OUT" "same name as its current name"
fails "an invalid name is refused" img rename rs2 'a b'
ok "the old name is free again" img run --rm --name rs --network none busybox true
img rm -f rs2 >/dev/null

# --- dead: a removal that failed halfway -------------------------------------------
dd=$(img create --name deadone --network none busybox true)
echo x > "$R/containers/$dd/upper/stuck"
chattr +i "$R/containers/$dd/upper/stuck"   # the kernel will not unlink it
fails "doc:dead rm that cannot remove the container's files fails" img rm deadone
like "... saying why" "$LAST_OUT" "unable to remove filesystem for $dd"
is "... the container is dead" "$(field deadone '{{.State.Status}} {{.State.Dead}} {{.State.Running}}')" "dead true false"
is "... ps -a shows it Dead" "$(img ps -a --filter name=deadone --format '{{.Names}} {{.Status}}')" "deadone Dead"
is "... ps --filter status=dead finds it" "$(img ps -a --filter status=dead --format '{{.Names}}')" deadone
is "... ps without -a does not" "$(img ps --filter name=deadone -q)" ""
fails "... start refuses it" img start deadone
like "... as docker says" "$LAST_OUT" "container is marked for removal and cannot be started"
chattr -i "$R/containers/$dd/upper/stuck"
ok "... rm of the dead container finishes the removal" img rm deadone
fails "... it is gone" img inspect deadone
is "... with its directory" "$(ls -d "$R/containers/$dd" 2>/dev/null)" ""

# --- pause / unpause ---------------------------------------------------------------
# doc:pause-freezer
img run -d --name pz --network none busybox sh -c 'i=0; while :; do i=$((i+1)); echo $i > /n; done' >/dev/null
ok "pz runs" wait_for status_is pz running
up="$R/containers/$(cid pz)/upper/n"
ok "its counter advances" wait_for test -s "$up"
is "pause prints the name" "$(img pause pz)" pz
pid=$(pid_of pz)
cg=/sys/fs/cgroup/freezer/imgtool/$(cid pz)
if [ -f "$cg/freezer.state" ]; then
  is "v1: freezer.state says FROZEN" "$(cat "$cg/freezer.state")" FROZEN
else
  is "v2: cgroup.freeze says 1" "$(cat "/sys/fs/cgroup/imgtool/$(cid pz)/cgroup.freeze")" 1
fi
# a frozen task is in the refrigerator: its counter cannot move, however
# long we look (this is no timing: a running one would move in any case)
n1=$(cat "$up"); sleep 0.5; n2=$(cat "$up")
is "the counter does not advance while frozen" "$n2" "$n1"
is "inspect: paused, still Running" "$(field pz '{{.State.Status}} {{.State.Running}} {{.State.Paused}}')" "paused true true"
like "ps: Up ... (Paused)" "$(img ps --format '{{.Names}} {{.Status}}')" "pz Up .*\\(Paused\\)"
fails "pause twice is refused" img pause pz
like "already paused" "$LAST_OUT" "already paused"
is "unpause prints the name" "$(img unpause pz)" pz
ok "the counter advances again" wait_for sh -c "[ \"\$(cat '$up')\" != '$n2' ]"
is "inspect: running" "$(field pz '{{.State.Status}} {{.State.Paused}}')" "running false"
fails "unpause of one not paused is refused" img unpause pz
like "not paused" "$LAST_OUT" "is not paused"
img pause pz >/dev/null
# doc:stop-paused
ok "stop of a paused container" img stop -t 1 pz
is "it ended" "$(field pz '{{.State.Status}}')" exited
fails "pause of a stopped one is refused" img pause pz
like "not running" "$LAST_OUT" "is not running"

# --- attach --------------------------------------------------------------------------
# doc:attach-detach-keys
img run -d -it --name at --network none busybox sh >/dev/null
ok "at runs" wait_for status_is at running
out=$(/usr/bin/python3 - "$IMGTOOL" at <<'EOF'
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "attach", sys.argv[2]])
def read_until(pat):
    buf = b""; end = time.time() + 30
    while time.time() < end and pat not in buf:
        if select.select([fd], [], [], 0.2)[0]:
            try: d = os.read(fd, 4096)
            except OSError: break
            if not d: break
            buf += d
    return buf
for _ in range(100):   # until the shell answers
    os.write(fd, b"echo he''llo\n")
    if b"hello" in read_until(b"hello"): print("saw-hello"); break
os.write(fd, b"\x10\x11")
if b"read escape sequence" in read_until(b"read escape sequence"): print("detached")
_, st = os.waitpid(pid, 0)
print("exit", os.waitstatus_to_exitcode(st))
EOF
)
like "attach reaches the container's pty" "$out" saw-hello
like "ctrl-p,ctrl-q detaches" "$out" detached
like "attach exits 0 on detach" "$out" "exit 0"
is "the container still runs" "$(field at '{{.State.Status}}')" running
fails "bad detach keys are refused" img attach --detach-keys ctrl-1 at
img rm -f at >/dev/null
# stdin of a -i container without a pty, and its exit status
img run -d -i --name ai --network none busybox sh -c 'read l; echo got $l; exit 4' >/dev/null
ok "ai runs" wait_for status_is ai running
out=$(echo hi | timeout 60 "$IMGTOOL" attach ai); rc=$?
is "attach passes stdin and prints the output" "$out" "got hi"
is "attach exits with the container's status" "$rc" 4
fails "attach to a stopped container is refused" img attach ai
like "as docker says" "$LAST_OUT" "cannot attach to a stopped container"

# --- restart policies --------------------------------------------------------------
# doc:restart-on-failure
img run -d --name of --network none --restart on-failure:3 busybox sh -c 'exit 3' >/dev/null
is "on-failure:3: wait blocks through the restarts" "$(img wait of)" 3
is "RestartCount 3, then exited" "$(field of '{{.RestartCount}} {{.State.Status}}')" "3 exited"
is "HostConfig.RestartPolicy" "$(field of '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}')" "on-failure 3"
img run -d --name of0 --network none --restart on-failure busybox true >/dev/null
is "on-failure: no restart after exit 0" "$(img wait of0; field of0 '{{.RestartCount}}')" $'0\n0'

# doc:restart-always
img run -d --name al --restart always busybox sh -c 'sleep 0.2; exit 1' >/dev/null
ok "always restarts after each exit" wait_for sh -c "[ \$('$IMGTOOL' inspect -f '{{.RestartCount}}' al) -ge 2 ]"
ok "and is running again" wait_for status_is al running
ip1=$(field al '{{.NetworkSettings.IPAddress}}')
c1=$(field al '{{.RestartCount}}')
ok "a later run" wait_for sh -c "[ \$('$IMGTOOL' inspect -f '{{.RestartCount}}' al) -gt $c1 ] && [ \$('$IMGTOOL' inspect -f '{{.State.Status}}' al) = running ]"
is "keeps its address" "$(field al '{{.NetworkSettings.IPAddress}}')" "$ip1"
# doc:stop-respected
ok "stop of an always container" img stop -t 1 al
n=$(field al '{{.RestartCount}}')
is "it stays exited: its monitor is gone" "$(img wait al; field al '{{.State.Status}} {{.RestartCount}}')" "$(field al '{{.State.ExitCode}}')"$'\n'"exited $n"
img run -d --name ak --network none --restart always busybox sleep 1000 >/dev/null
ok "ak runs" wait_for status_is ak running
ok "kill of an always container" img kill ak
is "kill is respected too" "$(img wait ak; field ak '{{.State.Status}} {{.RestartCount}}')" $'137\nexited 0'

# a restarting one shows docker's status, and stop ends the wait at once
img run -d --name rw --network none --restart always busybox sh -c 'exit 2' >/dev/null
ok "rw waits between restarts" wait_for sh -c "'$IMGTOOL' ps --format '{{.Names}} {{.Status}}' | grep -q '^rw Restarting (2)'"
is "inspect: restarting, Running" "$(field rw '{{.State.Restarting}} {{.State.Running}}')" "true true"
ok "stop of a restarting container" img stop rw
is "exited with its last status" "$(field rw '{{.State.Status}} {{.State.ExitCode}}')" "exited 2"

# doc:restart-manual-start-resets
img run -d --name ms --network none --restart on-failure:5 busybox sh -c '[ -e /once ] && exec sleep 1000; touch /once; exit 1' >/dev/null
ok "ms restarted once and runs" wait_for sh -c "[ \"\$('$IMGTOOL' inspect -f '{{.RestartCount}} {{.State.Status}}' ms)\" = '1 running' ]"
img stop -t 1 ms >/dev/null
img start ms >/dev/null
is "a manual start resets RestartCount" "$(field ms '{{.RestartCount}} {{.State.Status}}')" "0 running"
img rm -f ms >/dev/null

# doc:restart-rm-conflict
fails "--rm with a restart policy is refused" img run --rm --restart always busybox true
like "with docker's message" "$LAST_OUT" "conflicting options: cannot specify both --restart and --rm"
is "and exit 125" "$(img run --rm --restart always busybox true >/dev/null 2>&1; echo $?)" 125
ok "--rm --restart no is fine" img run --rm --restart no --network none busybox true
fails "an unknown policy is refused" img run --restart sometimes busybox true
like "named as docker does" "$LAST_OUT" "invalid restart policy: unknown policy 'sometimes'"

# a foreground run with a policy returns its first status, as docker's
# client does, and its monitor goes on restarting it
img run --name fr --network none --restart on-failure:2 busybox sh -c 'exit 6'; rc=$?
is "foreground run --restart: the first exit status" "$rc" 6
is "then the restarts go on beside it" "$(img wait fr; field fr '{{.RestartCount}}')" $'6\n2'

# --- start --all: the boot hook ---------------------------------------------------------
# doc:start-all-boot
# (the always containers above would be taken too: docker's daemon starts
# them even when the user stopped them)
img rm -f al ak rw of0 fr >/dev/null
for n in b-always b-unless-stopped b-unless-killed b-no; do
  pol=${n#b-}; pol=${pol%-stopped}; pol=${pol%-killed}
  [ "$pol" = unless ] && pol=unless-stopped
  img run -d --name "$n" --network none --restart "$pol" busybox sleep 1000 >/dev/null
done
ok "the four run" wait_for sh -c "[ \$('$IMGTOOL' ps -q | wc -l) -ge 4 ]"
img stop -t 0 b-always b-unless-stopped >/dev/null
img stop -t 0 b-no >/dev/null
# a reboot, for b-unless-killed: its monitor dies (the user did not stop it)
mp=$(monitor_pid b-unless-killed)
kill -9 "$mp"
ok "b-unless-killed lost its monitor" wait_for status_is b-unless-killed exited
out=$(img start --all --filter restart-policy=always | sort)
is "start --all --filter restart-policy=always: always ones and unless-stopped ones not stopped by the user" \
  "$out" "$(printf '%s\n' "$(cid b-always)" "$(cid b-unless-killed)" | sort)"
is "b-unless-stopped stays down" "$(field b-unless-stopped '{{.State.Status}}')" exited
is "b-no stays down" "$(field b-no '{{.State.Status}}')" exited
is "start --all starts every stopped one" "$(img start --all --filter name=b-no)" "$(cid b-no)"
fails "start --all with names is refused" img start --all b-no
fails "a bad filter is refused" img start --all --filter color=red
img rm -f b-always b-unless-stopped b-unless-killed b-no >/dev/null

# --- create/start keep -p ----------------------------------------------------------------
img create --name pp -p 18080:80 busybox sleep 1000 >/dev/null
img start pp >/dev/null
ok "pp runs" wait_for status_is pp running
like "its published port is back at each start" "$(img ps --format '{{.Names}} {{.Ports}}')" "pp 0.0.0.0:18080->80/tcp"
img rm -f pp >/dev/null

# --- faults: a killed monitor or start leaves a record the next command repairs ---------
# doc:lifecycle-faults
img run -d --name fm --network none --restart always busybox sleep 1000 >/dev/null
ok "fm runs" wait_for status_is fm running
cpid=$(pid_of fm)
kill -9 "$(monitor_pid fm)"
ok "the container dies with its monitor" wait_for sh -c "! kill -0 $cpid 2>/dev/null || grep -q '^State:.*Z' /proc/$cpid/status"
is "the next command records it: exited 137, no restart" "$(field fm '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}')" "exited 137 0"
like "with the monitor's death as its Error" "$(field fm '{{.State.Error}}')" "monitor was killed"
is "and it starts again" "$(img start fm)" fm
ok "running" wait_for status_is fm running
img rm -f fm >/dev/null
# killed while it waited to restart
img run -d --name fw --network none --restart always busybox sh -c 'exit 9' >/dev/null
ok "fw is restarting" wait_for status_is fw restarting
kill -9 "$(monitor_pid fw)"
ok "the next command records fw exited, its last status kept" wait_for sh -c "[ \"\$('$IMGTOOL' inspect -f '{{.State.Status}} {{.State.ExitCode}}' fw)\" = 'exited 9' ]"
# a foreground start killed: like a killed run
img create --name fs --network none busybox sleep 1000 >/dev/null
"$IMGTOOL" start -a fs >/dev/null 2>&1 &
spid=$!
ok "start -a runs it" wait_for status_is fs running
cpid=$(pid_of fs)
kill -9 "$spid"; wait "$spid" 2>/dev/null
ok "the container dies with the killed start" wait_for sh -c "! kill -0 $cpid 2>/dev/null || grep -q '^State:.*Z' /proc/$cpid/status"
is "the next command sees it exited (137)" "$(field fs '{{.State.Status}} {{.State.ExitCode}}')" "exited 137"
is "and it can be started again" "$(img start fs)" fs
img rm -f fs fw >/dev/null
# two starts at once: one starts it, the other finds it running
img create --name two --network none busybox sleep 1000 >/dev/null
img start two >"$T_TMP/s1" 2>&1 & a=$!
img start two >"$T_TMP/s2" 2>&1 & b=$!
wait $a; wait $b
is "two starts at once: one container process" "$(pgrep -c -f '^sleep 1000$' --ns "$(pid_of two)" 2>/dev/null || echo 1)" 1
is "and one running record" "$(field two '{{.State.Status}}')" running
img rm -f two >/dev/null

# --- podman as the oracle: the same restart count for on-failure:3 ------------------
. "$TESTS_DIR/peers/env.sh"
if command -v podman >/dev/null && peers_env "$T_TMP/peers" 2>/dev/null &&
   peers_busybox_layout "$T_TMP/bb" latest >/dev/null 2>&1 &&
   peers_podman_load "$T_TMP/bb" latest >/dev/null 2>&1; then
  peers_podman run -d --name of3 --network none --restart on-failure:3 \
    docker.io/library/busybox:latest sh -c 'exit 3' >/dev/null 2>&1
  peers_podman wait of3 >/dev/null 2>&1
  # podman's cleanup process records the last restart after wait returns
  for _ in $(seq 100); do
    pc=$(peers_podman inspect -f '{{.RestartCount}} {{.State.Status}}' of3 2>&1)
    [ "$pc" = "3 exited" ] && break; sleep 0.1
  done
  is "podman's RestartCount for on-failure:3 is imgtool's" "$pc" \
    "$(field of '{{.RestartCount}} {{.State.Status}}')"
  peers_cleanup
else
  skip "podman does not run here"
fi

# no monitor outlives the test (an always container would be started again)
img rm -f $(img ps -aq) >/dev/null 2>&1
done_testing
