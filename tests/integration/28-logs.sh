#!/bin/bash
# Logs and health checks, kept by a container's monitor: every container's
# output in docker's json-file form (foreground ones too, and a pty's),
# rotation with --log-opt, `logs` -t/--tail/--since/--until/-f/--details,
# --log-driver none; HEALTHCHECK from --health-* or the image, run through
# the exec path, its status in ps and inspect. No timing is asserted:
# changes are polled for with generous limits.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap kill_recorded_containers EXIT
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
ok "fixture image in the store" img inspect busybox
IMG=busybox
NET="--network none"
PTY="$TESTS_DIR/helpers/pty-drive.py"

hlog () { img inspect -f '{{json .State.Health}}' "$1" | jq -r ".Log[$2].$3"; }
dir_of () { echo "$R/containers/$(img inspect -f '{{.Id}}' "$1")"; }
# poll: up to 120 s for a command to succeed (never a timing assert)
wait_for () { for _ in $(seq 1200); do "$@" && return 0; sleep 0.1; done; return 1; }
health_is () { [ "$(img inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null)" = "$2" ]; }
probes_at_least () { [ "$(img inspect -f '{{len .State.Health.Log}}' "$1" 2>/dev/null)" -ge "$2" ] 2>/dev/null; }

# --- a foreground run keeps a log ---------------------------------------------
out=$(img run --name fg $NET $IMG sh -c 'echo out; echo err >&2' 2>"$T_TMP/err")
# doc:logs-foreground
is "foreground: stdout still reaches the caller's stdout" "$out" "out"
is "foreground: stderr the caller's stderr" "$(cat "$T_TMP/err")" "err"
is "logs of a foreground run: stdout" "$(img logs fg 2>/dev/null)" "out"
is "logs of a foreground run: stderr kept apart" "$(img logs fg 2>&1 >/dev/null)" "err"
log=$(dir_of fg)/container.log
# doc:logs-json-file
like "the log is docker's json-file form" "$(head -1 "$log")" \
  '^\{"log":"out\\n","stream":"stdout","time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z"\}$'
like "stderr entries say so" "$(sed -n 2p "$log")" '^\{"log":"err\\n","stream":"stderr","time":"[^"]+"\}$'
is "each entry parses as JSON with the three keys" \
  "$(/usr/bin/python3 -c 'import json,sys; print(",".join(sorted(json.loads(l).keys())[0] for l in open(sys.argv[1])))' "$log")" "log,log"
like "-t: fixed-width RFC3339Nano, then a space" "$(img logs -t fg 2>/dev/null)" \
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z out$'
is "--details: attributes (none) and a space" "$(img logs --details fg 2>/dev/null)" " out"
img run --name esc $NET $IMG sh -c 'printf "a\"b\\\\c<&>\t\001\n"' >/dev/null
like "special characters are escaped as docker's encoder does" "$(cat "$(dir_of esc)/container.log")" \
  '^\{"log":"a\\"b\\\\c\\u003c\\u0026\\u003e\\t\\u0001\\n"'
is "and read back byte for byte" "$(img logs esc | od -An -c | tr -s ' ')" \
  "$(printf 'a"b\\c<&>\t\001\n' | od -An -c | tr -s ' ')"

# a line longer than 16 KiB: parts of 16384 bytes, the last with the '\n'
img run --name long $NET $IMG sh -c 'head -c 40000 /dev/zero | tr "\0" a; echo; echo end' >/dev/null
llog=$(dir_of long)/container.log
is "a 40000-byte line is 3 entries (16 KiB parts), then the next line" "$(wc -l < "$llog")" 4
is "the parts carry no newline, the last one does" \
  "$(/usr/bin/python3 -c 'import json,sys; print(" ".join("%d%s" % (len(json.loads(l)["log"]), json.loads(l)["log"].endswith("\n")) for l in open(sys.argv[1])))' "$llog")" \
  "16384False 16384False 7233True 4True"
is "logs puts the line together again" "$(img logs long | head -1 | wc -c)" 40001
is "and -t stamps it once" "$(img logs -t long | head -1 | grep -o 'Z ' | wc -l)" 1
out=$(img run --name nonl $NET $IMG sh -c 'printf "no newline"')
is "output without a final newline stays without one" "$(img logs nonl | od -c | tail -2 | head -1 | grep -c '\\n')" 0

# -t in the foreground: the pty's output is logged as stdout
"$PTY" -- "$IMGTOOL" run --name fgt -t $NET $IMG sh -c 'echo on-the-pty' >/dev/null 2>&1
is "a foreground pty's output is logged" "$(img logs fgt 2>/dev/null | tr -d '\r')" "on-the-pty"
like "as stdout" "$(head -1 "$(dir_of fgt)/container.log")" '"stream":"stdout"'

# a reader that leaves: the container gets EPIPE, imgtool records its exit
out=$(img run --name pipe $NET $IMG sh -c 'i=0; while [ $i -lt 100000 ]; do echo line $i; i=$((i+1)); done' | head -1)
is "a reader that leaves: the first line came" "$out" "line 0"
is "the container's exit is recorded (not a killed monitor)" \
  "$(img inspect -f '{{.State.Error}}' pipe)" ""

# --- --tail, --since, --until ----------------------------------------------
img run --name ten $NET $IMG sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; done' >/dev/null
# doc:logs-since
is "--tail 3" "$(img logs --tail 3 ten | tr '\n' ' ')" "8 9 10 "
is "-n 1" "$(img logs -n 1 ten)" "10"
is "--tail 0" "$(img logs --tail 0 ten)" ""
is "--tail all" "$(img logs --tail all ten | wc -l)" 10
is "--tail larger than the log" "$(img logs --tail 50 ten | wc -l)" 10
is "--since a future time: nothing" "$(img logs --since 2999-01-01T00:00:00Z ten)" ""
is "--until a past time: nothing" "$(img logs --until 2000-01-01 ten)" ""
is "--since a Unix time in the past: all" "$(img logs --since 1000000000 ten | wc -l)" 10
is "--since a Unix time in the future: nothing" "$(img logs --since $(( $(date +%s) + 3600 )).5 ten)" ""
is "--since 10m (relative): all" "$(img logs --since 10m ten | wc -l)" 10
is "--until 1h (an hour ago): nothing" "$(img logs --until 1h ten)" ""
fails "--since rubbish is refused" img logs --since yesterday ten
like "with a message naming it" "$LAST_OUT" "--since 'yesterday'"
img run --name steps $NET $IMG sh -c 'echo one; sleep 1; echo two; sleep 1; echo three' >/dev/null
t2=$(img logs -t steps | sed -n 2p | cut -d' ' -f1)
is "--since the time of an entry: from that one" "$(img logs --since "$t2" steps | tr '\n' ' ')" "two three "
is "--until the time of an entry: up to that one" "$(img logs --until "$t2" steps | tr '\n' ' ')" "one two "
is "--tail is counted before --since" "$(img logs --tail 1 --since "$t2" steps)" "three"

# --- -f -------------------------------------------------------------------------
id=$(img run -d $NET $IMG sh -c 'echo first; sleep 2; echo second')
is "-f follows until the container exits" "$(timeout 120 "$IMGTOOL" logs -f "$id")" "$(printf 'first\nsecond')"
id=$(img run -d $NET --log-opt max-size=200 --log-opt max-file=2 $IMG sh -c 'sleep 1; i=0; while [ $i -lt 40 ]; do echo rot-$i; i=$((i+1)); done; sleep 1; echo last')
out=$(timeout 120 "$IMGTOOL" logs -f "$id")
is "-f across rotations: what it shows is in order and ends with the last line" \
  "$(echo "$out" | tail -1)" "last"
is "-f across rotations: every line it shows is whole" "$(echo "$out" | grep -cv '^rot-[0-9]*$\|^last$')" 0
id=$(img run -d $NET $IMG sh -c 'echo before; sleep 1000')
out=$(timeout 120 "$IMGTOOL" logs -f --until "$(( $(date +%s) + 2 ))" "$id"); rc=$?
is "-f --until stops following at that time" "$rc" 0
is "having shown what came before" "$out" "before"
img rm -f "$id" >/dev/null

# --- rotation -------------------------------------------------------------------
img run --name rot $NET --log-opt max-size=1k --log-opt max-file=3 $IMG sh -c 'i=1; while [ $i -le 300 ]; do echo line-$i; i=$((i+1)); done' >/dev/null
d=$(dir_of rot)
# doc:logs-rotation
ok "max-file=3: the current file and two rotated ones" test -f "$d/container.log.2"
fails "no third" test -e "$d/container.log.3"
big=0
for f in "$d"/container.log*; do [ "$(stat -c %s "$f")" -gt 1100 ] && big=1; done
is "no file grows past max-size by more than one entry" "$big" 0
out=$(img logs rot)
is "logs reads the rotated files oldest first: the last line last" "$(echo "$out" | tail -1)" "line-300"
first=$(echo "$out" | head -1 | cut -d- -f2)
is "and a run of lines without a gap" "$(echo "$out" | tr '\n' ' ')" "$(seq -f 'line-%g' "$first" 300 | tr '\n' ' ')"
is "the oldest lines are gone" "$(echo "$out" | grep -c '^line-1$')" 0
img run --name rot1 $NET --log-opt max-size=500 $IMG sh -c 'i=1; while [ $i -le 100 ]; do echo line-$i; i=$((i+1)); done' >/dev/null
d=$(dir_of rot1)
fails "max-file defaults to 1: no rotated file" test -e "$d/container.log.1"
is "the file started again: the last line is there" "$(img logs rot1 | tail -1)" "line-100"
like "inspect shows the log config" "$(img inspect -f '{{json .HostConfig.LogConfig}}' rot)" \
  '"Type":"json-file","Config":\{"max-size":"1000","max-file":"3"\}'
is "inspect shows LogPath" "$(img inspect -f '{{.LogPath}}' rot)" "$(dir_of rot)/container.log"
ok "--log-driver k8s-file is taken (a file too)" img run --rm $NET --log-driver k8s-file $IMG true

# --- compress, attrs (labels, env, env-regex, tag) -----------------------------------
# doc:logs-compress
img run --name gz $NET --log-opt max-size=1k --log-opt max-file=3 --log-opt compress=true \
  $IMG sh -c 'i=1; while [ $i -le 300 ]; do echo line-$i; i=$((i+1)); done' >/dev/null
d=$(dir_of gz)
ok "compress=true: the rotated files are gzip files" gzip -t "$d/container.log.1.gz" "$d/container.log.2.gz"
fails "... with no plain copy left" test -e "$d/container.log.1"
like "... of the json-file entries" "$(gzip -dc "$d/container.log.1.gz" | head -1)" '^\{"log":"line-[0-9]+\\n","stream":"stdout","time":"[^"]+"\}$'
out=$(img logs gz)
is "logs reads them back: the last line last" "$(echo "$out" | tail -1)" "line-300"
first=$(echo "$out" | head -1 | cut -d- -f2)
is "... every line from the oldest kept, without a gap" "$(echo "$out" | tr '\n' ' ')" "$(seq -f 'line-%g' "$first" 300 | tr '\n' ' ')"
ok "... the oldest kept is in a compressed file" test "$first" -lt "$(gzip -dc "$d/container.log.1.gz" | tail -1 | sed 's/.*line-\([0-9]*\).*/\1/')"
like "compress without max-file >= 2 is refused, as docker says" \
  "$(img run --rm $NET --log-opt max-size=1k --log-opt compress=true $IMG true 2>&1)" \
  "compress cannot be true when max-file is less than 2 or max-size is not set"
# doc:logs-attrs
img run --name at $NET --label team=blue --label other=x -e APP_MODE=prod -e APP_X=1 -e OTHER=2 \
  --log-opt labels=team,missing --log-opt env=OTHER --log-opt env-regex='^APP_' \
  --log-opt tag='{{.Name}}/{{.ID}}/{{.ImageName}}' $IMG echo hi >/dev/null
is "labels, env, env-regex and tag: docker's attrs on each entry" \
  "$(jq -c .attrs "$(dir_of at)/container.log")" \
  "{\"APP_MODE\":\"prod\",\"APP_X\":\"1\",\"OTHER\":\"2\",\"tag\":\"at/$(img inspect -f '{{.Id}}' at | cut -c1-12)/$IMG\",\"team\":\"blue\"}"
like "... between stream and time, as docker writes them" "$(cat "$(dir_of at)/container.log")" '^\{"log":"hi\\n","stream":"stdout","attrs":\{.*\},"time":"'
is "logs prints the line as it is" "$(img logs at)" hi
img run --name noat $NET $IMG echo hi >/dev/null
is "no attrs without those options" "$(jq -c .attrs "$(dir_of noat)/container.log")" null
fails "a tag that is not a template is refused" img run --rm $NET --log-opt tag='{{.Name' $IMG true
like "... saying so" "$LAST_OUT" "invalid log opt tag"
fails "an unknown log opt is refused" img create $NET --log-opt colour=red $IMG true
is "... with one clear line" "$LAST_OUT" "imgtool: unknown log opt 'colour' for json-file log driver"

# --- --log-driver none and bad options -------------------------------------------
img run --name nolog $NET --log-driver none $IMG echo quiet >/dev/null
fails "--log-driver none: no log file" test -e "$(dir_of nolog)/container.log"
fails "logs of it fails" img logs nolog
like "saying why" "$LAST_OUT" "log driver \(none\) keeps no log"
for bad in "--log-driver syslog" "--log-opt max-size=lots" "--log-opt max-file=0" \
           "--log-opt nosuch=1" "--log-opt max-size" "--log-driver none --log-opt max-size=1m"; do
  out=$(img run --rm $NET $bad $IMG true 2>&1); rc=$?
  is "invalid '$bad' exits 125" "$rc" 125
done
like "max-file 0: docker's message" "$(img run --rm $NET --log-opt max-file=0 $IMG true 2>&1)" "max-file cannot be less than 1"

# --- HEALTHCHECK ------------------------------------------------------------------
img run -d --name hc $NET --health-cmd 'test -f /tmp/ok' --health-interval 1s \
  --health-retries 2 $IMG sleep 1000 >/dev/null
like "ps: (health: starting) before a probe ran" "$(img ps)" 'Up .* \(health: starting\) +hc'
# doc:health-states
ok "failing probes: unhealthy" wait_for health_is hc unhealthy
like "ps says (unhealthy)" "$(img ps)" 'Up .* \(unhealthy\) +hc'
streak=$(img inspect -f '{{.State.Health.FailingStreak}}' hc)
ok "FailingStreak reached the retries" test "$streak" -ge 2
is "a failed probe's exit code is logged" "$(hlog hc 0 ExitCode)" 1
img exec hc touch /tmp/ok
ok "one success: healthy again" wait_for health_is hc healthy
like "ps says (healthy)" "$(img ps)" 'Up .* \(healthy\) +hc'
is "FailingStreak back to 0" "$(img inspect -f '{{.State.Health.FailingStreak}}' hc)" 0
ok "the log keeps at most 5 results" wait_for probes_at_least hc 5
sleep 2
is "and never more" "$(img inspect -f '{{len .State.Health.Log}}' hc)" 5
like "a result has Start, End, ExitCode and Output" \
  "$(img inspect -f '{{json .State.Health}}' hc | jq -c '.Log[4]')" \
  '^\{"Start":"[0-9T:.-]+Z","End":"[0-9T:.-]+Z","ExitCode":0,"Output":""\}$'
is "Config.Healthcheck as docker's" "$(img inspect -f '{{json .Config.Healthcheck}}' hc)" \
  '{"Test":["CMD-SHELL","test -f /tmp/ok"],"Interval":1000000000,"Retries":2}'
img rm -f hc >/dev/null

img run -d --name hout $NET --health-cmd 'echo probe-says; id -u' --health-interval 1s \
  --user 1234 $IMG sleep 1000 >/dev/null
ok "a probe's output is kept" wait_for probes_at_least hout 1
is "runs as the container's user, output kept" \
  "$(hlog hout 0 Output)" "$(printf 'probe-says\n1234\n')"
img rm -f hout >/dev/null

img run -d --name hto $NET --health-cmd 'echo partial; sleep 100' --health-timeout 500ms \
  --health-interval 1s --health-retries 1 $IMG sleep 1000 >/dev/null
ok "a probe past its timeout: unhealthy" wait_for health_is hto unhealthy
is "recorded as -1" "$(hlog hto 0 ExitCode)" -1
is "with docker's message and the partial output" \
  "$(hlog hto 0 Output)" "$(printf 'Health check exceeded timeout (500ms): partial\n')"
img rm -f hto >/dev/null

img run -d --name hsp $NET --health-cmd false --health-interval 1s --health-retries 1 \
  --health-start-period 1h --health-start-interval 500ms $IMG sleep 1000 >/dev/null
ok "inside the start period: probes run (start-interval)" wait_for probes_at_least hsp 3
is "but failures do not count: still starting" "$(img inspect -f '{{.State.Health.Status}}' hsp)" starting
is "streak 0" "$(img inspect -f '{{.State.Health.FailingStreak}}' hsp)" 0
img rm -f hsp >/dev/null

img run -d --name hcmd $NET --health-interval 1s $IMG sleep 1000 >/dev/null
is "--health-* without a command or an image healthcheck: none" \
  "$(img inspect -f '{{json .State.Health}}' hcmd)" "null"
like "ps shows no health" "$(img ps)" 'Up [^(]* +hcmd'
img rm -f hcmd >/dev/null

# the image's HEALTHCHECK (built without a healthcheck flag), and --no-healthcheck
mkdir -p "$T_TMP/hctx"
printf 'FROM busybox\nHEALTHCHECK --interval=1s --retries=1 CMD ["sh", "-c", "exit 0"]\n' > "$T_TMP/hctx/Buildfile"
if img build -q -t withhc -f "$T_TMP/hctx/Buildfile" "$T_TMP/hctx" >/dev/null 2>&1; then
  img run -d --name himg $NET withhc sleep 1000 >/dev/null
  ok "the image's HEALTHCHECK runs" wait_for health_is himg healthy
  is "its Test" "$(img inspect -f '{{json .Config.Healthcheck.Test}}' himg)" '["CMD","sh","-c","exit 0"]'
  img rm -f himg >/dev/null
  img run -d --name hnone $NET --no-healthcheck withhc sleep 1000 >/dev/null
  is "--no-healthcheck: no State.Health" "$(img inspect -f '{{json .State.Health}}' hnone)" "null"
  is "and Test NONE" "$(img inspect -f '{{json .Config.Healthcheck.Test}}' hnone)" '["NONE"]'
  img rm -f hnone >/dev/null
  img run -d --name hover $NET --health-cmd 'exit 1' withhc sleep 1000 >/dev/null
  ok "--health-cmd replaces the image's test, the image's interval stays" wait_for health_is hover unhealthy
  img rm -f hover >/dev/null
else
  skip "build of an image with a HEALTHCHECK failed"; skip "-"; skip "-"; skip "-"; skip "-"
fi
for bad in "--no-healthcheck --health-cmd true" "--health-interval -1s" "--health-retries -1" \
           "--health-timeout 10" "--health-interval 500us"; do
  out=$(img run --rm $NET $bad $IMG true 2>&1); rc=$?
  is "invalid '$bad' exits 125" "$rc" 125
done
like "--no-healthcheck with --health-*: docker's message" \
  "$(img run --rm $NET --no-healthcheck --health-cmd true $IMG true 2>&1)" "conflicts with --health-\* options"

# the foreground run is the monitor too: it runs the checks
img run --name hfg $NET --health-cmd true --health-interval 1s $IMG sleep 1000 >/dev/null 2>&1 &
fgpid=$!
ok "a foreground container's checks run" wait_for health_is hfg healthy
img stop -t 1 hfg >/dev/null
wait $fgpid

# --- around a running container: top, stats, port ----------------------------------
img run -d --name around -p 8080:80 -p 127.0.0.1:5353:53/udp $IMG sh -c 'sleep 1000 & exec sleep 999' >/dev/null
wait_for test "$(img exec around sh -c 'ls /proc | grep -c "^[0-9]"' 2>/dev/null)" -ge 2
top=$(img top around)
# doc:top-columns
like "top: ps -ef's columns, docker's layout" "$(echo "$top" | head -1)" \
  '^UID {17,}PID {17,}PPID {16,}C {19,}STIME {15,}TTY {17,}TIME {16,}CMD$'
like "top: the container's processes" "$top" $'\nroot +[0-9]+ +[0-9]+ +[0-9]+ +[0-9:A-Za-z]+ +[?] +00:00:0[0-9] +sleep 999'
like "top: every one of them" "$top" 'sleep 1000'
is "top: nothing of the host" "$(echo "$top" | grep -vc 'sleep\|^UID')" 0
pid1=$(img inspect -f '{{.State.Pid}}' around)
like "top: host pids, as docker shows them" "$top" $'\nroot +'"$pid1"' '
is "top -o pid,comm" "$(img top around -o pid,comm | awk 'NR>1 {print $2}' | sort | tr '\n' ' ')" "sleep sleep "
is "top -o: its titles" "$(img top around -o pid,comm | head -1 | tr -s ' ')" "PID COMMAND"
fails "top: an option it does not know" img top around aux
fails "top of a stopped container" img top fg
like "  says it is not running" "$LAST_OUT" "is not running"
st=$(img stats --no-stream around)
# doc:stats-columns
like "stats: docker's columns" "$(echo "$st" | head -1)" \
  '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$'
like "stats: a row with numbers from the cgroup" "$(echo "$st" | sed -n 2p)" \
  '^[0-9a-f]{12} +around +[0-9]+\.[0-9]{2}% +[0-9.]+(B|KiB|MiB|GiB) / [0-9.]+(B|KiB|MiB|GiB) +[0-9]+\.[0-9]{2}% +[0-9.]+[kMG]?B / [0-9.]+[kMG]?B +[0-9.]+[kMG]?B / [0-9.]+[kMG]?B +2$'
is "stats --format" "$(img stats --no-stream --format '{{.Name}}:{{.PIDs}}' around)" "around:2"
is "stats: running containers only by default" "$(img stats --no-stream --format '{{.Name}}' | sort | tr '\n' ' ')" "around "
like "stats -a: a stopped one shows --" "$(img stats --no-stream -a --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}')" $'(^|\n)fg -- --(\n|$)'
# doc:port-output
is "port: docker's form, sorted" "$(img port around)" "$(printf '53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:8080')"
is "port PRIVATE" "$(img port around 80)" "0.0.0.0:8080"
is "port PRIVATE/PROTO" "$(img port around 53/udp)" "127.0.0.1:5353"
fails "port of one not published" img port around 81
like "  docker's message" "$LAST_OUT" "no public port '81/tcp' published for 'around'"
is "port of a stopped container: nothing" "$(img port fg)" ""
img rm -f around >/dev/null

done_testing
