#!/bin/bash
# The container service (service/service.h) as a user meets it: stop, kill
# and rm of several containers at once, the exit status naming the ones
# that failed, a killed monitor or `run` (the container dies with it, the
# record says so, the next command cleans up), names between containers
# through the network's one hosts file, and the build's RUN on the same
# service.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap kill_recorded_containers EXIT

"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
ok "fixture image in the store" img inspect busybox

pid_of () { jq -r .pid "$R/containers/$(img inspect -f '{{.Id}}' "$1")/state.json"; }
running () { [ "$(img inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" = running ]; }
wait_for () { for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }

# --- stop of several at once -------------------------------------------------
# Three containers that ignore SIGTERM (they log it and go on), stopped
# with -t 2: in parallel every one gets its SIGTERM before any gets its
# SIGKILL, so after the last "term" line each of them still logs "alive";
# one after the other, the first is dead before the second hears anything.
mkdir -p "$T_TMP/shared"
for n in p1 p2 p3; do
  img run -d --network none --name "$n" -v "$T_TMP/shared:/shared" busybox sh -c \
    "trap 'echo term $n >> /shared/log; t=1' TERM; t=0
     echo up $n >> /shared/log
     while :; do sleep 0.1; [ \$t = 1 ] && echo alive $n >> /shared/log; done" >/dev/null
done
ok "three containers up" wait_for sh -c "[ \$(grep -c '^up' '$T_TMP/shared/log' 2>/dev/null) = 3 ]"
out=$(img stop -t 2 p1 p2 p3 2>&1); rc=$?
is "stop of three: exit 0" "$rc" 0
is "stop prints the names in the order given" "$out" $'p1\np2\np3'
log=$(cat "$T_TMP/shared/log")
is "each got its SIGTERM" "$(grep -c '^term' <<< "$log")" 3
after=$(awk '/^term/ { last = NR } { l[NR] = $0 } END { for (i = last + 1; i <= NR; i++) print l[i] }' <<< "$log")
for n in p1 p2 p3; do
  like "$n was still alive after the last SIGTERM went out (stopped in parallel)" "$after" "alive $n"
done
is "all three are exited" \
  "$(for n in p1 p2 p3; do img inspect -f '{{.State.Status}}' $n; done | sort -u)" exited
is "killed after the grace period: 137" "$(img inspect -f '{{.State.ExitCode}}' p2)" 137

# --- the exit status names the ones that failed -----------------------------
img run -d --network none --name k1 busybox sleep 1000 >/dev/null
out=$(img kill k1 nosuch p1 2>"$T_TMP/kill.err"); rc=$?
is "kill of three, two failing: exit 1" "$rc" 1
is "the one that worked is printed" "$out" k1
like "the missing one is named" "$(cat "$T_TMP/kill.err")" "imgtool: kill 'nosuch': no such container"
like "the stopped one is named" "$(cat "$T_TMP/kill.err")" "imgtool: kill 'p1': container 'p1' is not running"
is "two error lines, one per failure" "$(wc -l < "$T_TMP/kill.err")" 2
img run -d --network none --name k2 busybox sleep 1000 >/dev/null
out=$(img rm p1 nosuch p2 p3 k2 2>"$T_TMP/rm.err"); rc=$?
is "rm with failures: exit 1" "$rc" 1
is "rm prints the ones removed, in order" "$out" $'p1\np2\np3'
like "rm names the running one" "$(cat "$T_TMP/rm.err")" "imgtool: rm 'k2': container is running"
like "rm names the missing one" "$(cat "$T_TMP/rm.err")" "imgtool: rm 'nosuch': no such container"
ok "rm -f of the running one" img rm -f k2
ok "and of the killed one" img rm k1

# --- a killed monitor: the container dies with it ---------------------------
id=$(img run -d --name mon busybox sleep 1000)
# the first container on the network: its hosts file is made before the
# container mounts it
like "the first container on a network finds itself in /etc/hosts" \
  "$(img exec mon cat /etc/hosts)" "	${id:0:12} mon"
cpid=$(pid_of mon)
mpid=$(awk '{ print $4 }' "/proc/$cpid/stat")
like "the container's parent is its monitor (an imgtool process)" "$(tr '\0' ' ' < "/proc/$mpid/cmdline")" "run -d"
ip=$(img inspect -f '{{.NetworkSettings.IPAddress}}' mon)
kill -9 "$mpid"
ok "the container dies with its monitor" wait_for sh -c "! kill -0 $cpid 2>/dev/null || grep -q '^State:.*Z' /proc/$cpid/status"
is "the record says Exited (137)" "$(img inspect -f '{{.State.Status}} {{.State.ExitCode}}' mon)" "exited 137"
like "with an Error saying the monitor was killed" "$(img inspect -f '{{.State.Error}}' mon)" "monitor was killed"
like "ps -a shows it exited" "$(img ps -a --format '{{.Names}} {{.Status}}')" "mon Exited \\(137\\)"
ok "its address went back" test ! -e "$R/networks/bridge/leases/$ip"
fails "its name left the network's hosts file" grep -q "	.* mon\$" "$R/networks/bridge/hosts"
ok "rm of it" img rm mon

# --- a killed foreground run: the next command cleans up --------------------
"$IMGTOOL" run --name fg busybox sleep 1000 >/dev/null 2>&1 &
runpid=$!
ok "the foreground container runs" wait_for running fg
cpid=$(pid_of fg)
ip=$(img inspect -f '{{.NetworkSettings.IPAddress}}' fg)
kill -9 "$runpid"; wait "$runpid" 2>/dev/null
ok "the container dies with the killed run" wait_for sh -c "! kill -0 $cpid 2>/dev/null || grep -q '^State:.*Z' /proc/$cpid/status"
like "the next command sees it exited (137)" "$(img ps -a --format '{{.Names}} {{.Status}}')" "fg Exited \\(137\\)"
ok "and gave its address back" test ! -e "$R/networks/bridge/leases/$ip"
ok "the name can be freed" img rm fg

# --- ps reads one small file per container -----------------------------------
# state.json carries a summary of config.json (runtime/state.h), so ps never
# decodes the plan: it lists a container whose config.json is away. A record
# written before the summary existed is still listed, from both files.
id=$(img run -d --network none --name sum -v "$T_TMP:/data" busybox sleep 1000)
mv "$R/containers/$id/config.json" "$T_TMP/config.json"
is "ps lists a container from its state.json alone" \
  "$(img ps --no-trunc --format '{{.Names}} {{.Image}} {{.Command}} {{.Networks}} {{.Mounts}}')" \
  "sum busybox \"sleep 1000\" none $T_TMP"
mv "$T_TMP/config.json" "$R/containers/$id/config.json"
jq -c 'del(.summary)' "$R/containers/$id/state.json" > "$T_TMP/state.json"
cp "$T_TMP/state.json" "$R/containers/$id/state.json"
is "and one whose state.json has no summary, from config.json" \
  "$(img ps --format '{{.Names}} {{.Command}}')" 'sum "sleep 1000"'
img rm -f sum >/dev/null

# --- names between containers: the network's one hosts file -----------------
img run -d --name na busybox sleep 1000 >/dev/null
img run -d --name nb busybox sleep 1000 >/dev/null
nbip=$(img inspect -f '{{.NetworkSettings.IPAddress}}' nb)
like "a container resolves one started after it" "$(img exec na cat /etc/hosts)" "$nbip	[0-9a-f]{12} nb"
fails "/etc/hosts is read-only in the container (it is every container's)" \
  img exec na sh -c 'echo 6.6.6.6 evil >> /etc/hosts'
img rm -f nb >/dev/null
fails "after rm, the other no longer resolves it" grep -q "nb\$" <(img exec na cat /etc/hosts)
img rm -f na >/dev/null

# --- the build's RUN goes through the same service ---------------------------
img run -d --name peer busybox sleep 1000 >/dev/null
mkdir -p "$T_TMP/ctx"
printf 'FROM busybox\nRUN cat /etc/hosts\n' > "$T_TMP/ctx/Buildfile"
out=$(img build --network bridge --no-cache -f "$T_TMP/ctx/Buildfile" "$T_TMP/ctx" 2>&1)
like "a bridged RUN step sees the network's hosts file (the same network object)" "$out" "[0-9a-f]{12} peer"
img rm -f peer >/dev/null
is "the step's address went back" "$(ls "$R/networks/bridge/leases" | wc -l)" 0

done_testing
