#!/bin/bash
# run, ps, logs, exec, stop, kill, rm as a user sees them, on a busybox image
# made without imgtool (tests/fixtures/busybox-oci.sh: umoci + skopeo).
. "$(dirname "$0")/../lib.sh"

"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture image in the store" test -f "$IMGTOOL_ROOT/oci/index.json"

# The fixture image, run straight from the store.
IMG=busybox
out=$(img run --rm busybox true 2>&1)
rc=$?
# doc:exit-0
is "run true" "$rc" 0
# run hashes (the manifest read back, chain IDs, the seccomp cache key):
# with the CPU's SHA instructions, without loading libcrypto
if grep -qw sha_ni /proc/cpuinfo; then
  is "run hashes without loading libcrypto (SHA-NI)" \
    "$(LD_DEBUG=files img run --rm --network none $IMG true 2>&1 | grep -c 'file=libcrypto')" 0
else
  skip "no SHA-NI here: run hashes with OpenSSL"
fi

cgroups_of () { # id: cgroup dirs of a container left on the host
  ls -d /sys/fs/cgroup/*/imgtool/"$1" /sys/fs/cgroup/imgtool/"$1" 2>/dev/null
}

# --- the process ---
is "run echo" "$(img run --rm $IMG echo hello)" "hello"
# comm (ps, top, pgrep) is the command's name, as with docker, also for a
# busybox applet whose file is a symlink to busybox (exec by fd would say
# "busybox", or the fd's number before Linux 6.14)
is "the process is named after its command (comm)" \
  "$(img run --rm $IMG cat /proc/self/comm)" "cat"
# doc:exit-own
img run --rm $IMG sh -c 'exit 3'
is "exit status is the process's" "$?" 3
# doc:exit-127
out=$(img run --rm $IMG nosuchcommand 2>&1); rc=$?
is "a missing command exits 127" "$rc" 127
is "with one line of error" "$(echo "$out" | wc -l)" 1
like "that names the command" "$out" "^imgtool: .*nosuchcommand"
# docker: 127 also when the command is an absolute path that is gone (an
# ENTRYPOINT ["/app"] whose binary is missing), 126 when it is there but
# cannot be executed
out=$(img run --rm $IMG /nosuch/app 2>&1); rc=$?
is "a missing absolute path exits 127" "$rc" 127
like "that names the path" "$out" "^imgtool: .*/nosuch/app"
img run --rm --entrypoint /app $IMG >/dev/null 2>&1
is "a missing --entrypoint /app exits 127" "$?" 127
# doc:exit-126
out=$(img run --rm $IMG /etc/passwd 2>&1); rc=$?
is "a file that is not executable exits 126" "$rc" 126
like "that names it" "$out" "^imgtool: .*/etc/passwd"
img run --rm --entrypoint /tmp $IMG >/dev/null 2>&1
is "a directory as the command exits 126" "$?" 126
img run --rm -e PATH=/etc $IMG passwd >/dev/null 2>&1
is "a name found in \$PATH but not executable exits 126" "$?" 126
# doc:exit-signal
img run --rm $IMG sh -c 'sleep 100 & kill -9 $!; wait $!'
is "a child killed by SIGKILL: 137" "$?" 137

# --- image config and overrides ---
is "-e" "$(img run --rm -e A=1 -e B="x y" $IMG sh -c 'echo $A-$B')" "1-x y"
printf 'F1=one\n# comment\nF2=two\n' > "$T_TMP/envfile"
is "--env-file then -e" \
  "$(img run --rm --env-file "$T_TMP/envfile" -e F2=over $IMG sh -c 'echo $F1-$F2')" "one-over"
is "PATH from the image" "$(img run --rm $IMG sh -c 'echo $PATH')" \
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
is "-w" "$(img run --rm -w /tmp $IMG pwd)" "/tmp"
is "-w creates the directory" "$(img run --rm -w /new/dir $IMG pwd)" "/new/dir"
is "-u name" "$(img run --rm -u app $IMG id)" \
  "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app),1001(extra)"
is "-u uid:gid" "$(img run --rm -u 1000:1001 $IMG sh -c 'echo $(id -u) $(id -g)')" "1000 1001"
is "HOME from passwd" "$(img run --rm -u app $IMG sh -c 'echo $HOME')" "/home/app"
# doc:exit-125
out=$(img run --rm -u nosuch $IMG id 2>&1); rc=$?
is "unknown user: 125" "$rc" 125
like "unknown user message" "$out" "unable to find user nosuch: no matching entries in passwd file"
is "--entrypoint" "$(img run --rm --entrypoint echo $IMG a b)" "a b"
is "--hostname" "$(img run --rm -h box $IMG hostname)" "box"
is "--network host: the host's /etc/hosts" "$(img run --rm --network host $IMG cat /etc/hosts)" "$(cat /etc/hosts)"
like "else a small one naming the container (bridge: by its address)" \
  "$(img run --rm -h box $IMG cat /etc/hosts)" $'^127.0.0.1\tlocalhost\n.*10\\.89\\.[0-9.]+\tbox( |\n)'
like "--network none: by 127.0.1.1" "$(img run --rm --network none -h box $IMG cat /etc/hosts)" \
  $'^127.0.0.1\tlocalhost\n.*127.0.1.1\tbox$'
is "HOSTNAME variable" "$(img run --rm -h box $IMG sh -c 'echo $HOSTNAME')" "box"

# --- --rm leaves nothing ---
before=$(ls "$IMGTOOL_ROOT/containers" | grep -c '^[0-9a-f]\{64\}$')
img run --rm $IMG true
after=$(ls "$IMGTOOL_ROOT/containers" | grep -c '^[0-9a-f]\{64\}$')
is "--rm removes the container" "$after" "$before"

# --- filesystems ---
fails "--read-only root" img run --rm --read-only $IMG touch /x
mkdir -p "$T_TMP/vol"; echo data > "$T_TMP/vol/f"
is "-v ro reads" "$(img run --rm -v "$T_TMP/vol":/data:ro $IMG cat /data/f)" "data"
fails "-v ro refuses writes" img run --rm -v "$T_TMP/vol":/data:ro $IMG sh -c 'echo x > /data/g'
ok "-v rw writes" img run --rm -v "$T_TMP/vol":/data $IMG sh -c 'echo x > /data/g'
is "the write reached the host" "$(cat "$T_TMP/vol/g" 2>/dev/null)" "x"
is "--tmpfs on a read-only root" \
  "$(img run --rm --read-only --tmpfs /scratch $IMG sh -c 'echo ok > /scratch/a && cat /scratch/a')" "ok"

# --- limits ---
out=$(img run --name oom -m 16m --memory-swap 16m $IMG sh -c 'x=$(head -c 64m /dev/zero | tr "\0" a); echo survived' 2>&1); rc=$?
is "--memory hog is killed: 137" "$rc" 137
oomid=$(grep -l '"name":"oom"' "$IMGTOOL_ROOT"/containers/*/config.json | xargs -r dirname | xargs -r basename)
like "and reported OOM-killed" "$(cat "$IMGTOOL_ROOT/containers/$oomid/state.json" 2>/dev/null)" '"oom_killed":true'
ok "rm the OOM-killed container" img rm oom
is "no cgroup left after rm" "$(cgroups_of "$oomid")" ""
out=$(img run --rm --pids-limit 20 $IMG sh -c 'i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done; echo all forked' 2>&1); rc=$?
like "a fork bomb under --pids-limit is stopped" "$out" "can't fork"
is "host still forks" "$(echo fine)" "fine"
is "--pids-limit as the container sees it in /sys/fs/cgroup" \
  "$(img run --rm --pids-limit 77 $IMG sh -c 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max')" 77
# doc:no-new-privs: on by default (the runtime helper tests =false)
like "NoNewPrivs is on by default" "$(img run --rm $IMG grep NoNewPrivs /proc/self/status)" $'^NoNewPrivs:\t1$'
# doc:dev-noexec: /dev is a tmpfs nosuid,noexec (a file the container
# writes there cannot be run)
like "/dev is tmpfs nosuid,noexec" "$(img run --rm $IMG grep ' /dev ' /proc/self/mounts)" '^[^ ]+ /dev tmpfs ([^ ]*,)?nosuid,([^ ]*,)?noexec'
is "a program copied into /dev does not run" \
  "$(img run --rm $IMG sh -c 'cp /bin/busybox /dev/bb && /dev/bb true 2>/dev/null; echo $?')" 126
# doc:cgroup-ro
fails "/sys/fs/cgroup is read-only" img run --rm $IMG sh -c 'echo 5 > /sys/fs/cgroup/pids/pids.max || echo 5 > /sys/fs/cgroup/pids.max'
for bad in "-m 1x" "--memory 1k" "--cpus half" "--cpus 1000" "--pids-limit many" \
           "--memory-swap 1g" "-v /a:relative" "--network nosuch" "--pull sometimes"; do
  out=$(img run --rm $bad $IMG true 2>&1); rc=$?
  is "invalid '$bad' exits 125" "$rc" 125
done

# --- names and images ---
ok "run --name web" img run --name web $IMG true
out=$(img run --name web $IMG true 2>&1); rc=$?
is "a name clash exits 125" "$rc" 125
like "the clash message" "$out" 'the container name "/web" is already in use'
ok "rm web" img rm web
out=$(img run --rm --pull never no/such:image true 2>&1); rc=$?
is "an unknown image exits 125" "$rc" 125
like "and says so" "$out" "image 'no/such:image' is not in the store"
# by default a missing image is pulled (docker.io is not reachable here)
out=$(img run --rm no/such:image true 2>&1); rc=$?
is "an unknown image, pull failing: 125" "$rc" 125
like "the pull was tried" "$out" $'Unable to find image \'no/such:image\' locally\n.*\nimgtool: pull \'no/such:image\': '

# --- detached ---
id=$(img run -d --name bg $IMG sh -c 'echo out; echo err >&2; trap "echo bye; exit 7" TERM; while true; do sleep 1; done')
like "run -d prints the full id" "$id" '^[0-9a-f]{64}$'
like "ps lists it" "$(img ps)" "${id:0:12} .* Up .* bg"
is "ps -q" "$(img ps -q)" "${id:0:12}"
is "logs" "$(img logs bg 2>/dev/null)" "out"
is "logs keeps stderr apart" "$(img logs bg 2>&1 >/dev/null)" "err"
like "logs -t" "$(img logs -t bg 2>/dev/null)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z out$'
fails "rm refuses a running container" img rm bg
like "with docker's message" "$LAST_OUT" "container is running: stop the container before removing or force remove"
h1=$(img exec bg hostname 2>&1)
is "exec sees the container's hostname" "$h1" "${id:0:12}"
like "exec sees the container's pid 1" "$(img exec bg cat /proc/1/cmdline | tr '\0' ' ')" "^sh -c echo out"
# doc:exit-127 doc:exit-126 doc:exit-own: exec's statuses are run's
img exec bg /nosuch/app >/dev/null 2>&1
is "exec of a missing absolute path exits 127" "$?" 127
img exec bg nosuchcommand >/dev/null 2>&1
is "exec of a missing command exits 127" "$?" 127
img exec bg /etc/passwd >/dev/null 2>&1
is "exec of a file that is not executable exits 126" "$?" 126
img exec bg sh -c 'exit 4'
is "exec: the process's own status" "$?" 4
# Every process of the container, exec'd ones too, is in the container's
# cgroup in each hierarchy it joins (on v1 the process moves itself in).
pid1=$(jq -r .pid "$IMGTOOL_ROOT/containers/$id/state.json")
# (a long sleep, killed below: on a loaded machine the scan of /proc can
# take longer than a short one lives)
img exec bg sleep 120 >/dev/null 2>&1 &
execpid=$!
pidns=$(readlink "/proc/$pid1/ns/pid")
sleeppid=
for _ in $(seq 150); do
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] && \
      [ "$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)" = "sleep 120 " ] &&
      { sleeppid=${p#/proc/}; break 2; }
  done
  sleep 0.1
done
# v1: the pids, memory and devices lines; v2: the one "0::" line
outside_cg () {
  grep -E '^[0-9]+:(pids|memory|devices):|^0::' "/proc/$1/cgroup" 2>/dev/null \
    | { [ -d /sys/fs/cgroup/pids ] && grep -v '^0::' || cat; } \
    | grep -qv "/imgtool/$id\$"
}
inside=0 outside=""
for p in /proc/[0-9]*; do
  [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] || continue
  inside=$((inside + 1))
  outside_cg "${p#/proc/}" && outside+=" ${p#/proc/}"
done
# a child the shell is forking shows the root cgroup until fork finishes
# (the kernel links it to its parent's cgroups last): look again
[ -n "$outside" ] && sleep 0.3
still=""
for p in $outside; do outside_cg "$p" && still+=" $p"; done
outside=$still
ok "the container's shell and the exec'd sleep found by their pid namespace" test "$inside" -ge 2
is "every one of them in the container's cgroup" "$outside" ""
[ -n "$sleeppid" ] && kill "$sleeppid" 2>/dev/null
wait "$execpid"
# inspect and --format, as docker's: containers first, Go templates
is "inspect -f: the pid" "$(img inspect -f '{{.State.Pid}}' bg)" \
  "$(jq -r .pid "$IMGTOOL_ROOT/containers/$id/state.json")"
is "inspect -f: name, status, running" \
  "$(img inspect -f '{{.Name}} {{.State.Status}} {{.State.Running}}' bg)" "/bg running true"
is "inspect: docker's JSON, an array" "$(img inspect "${id:0:12}" | jq -r '.[0].Id')" "$id"
is "inspect -f with json and if" \
  "$(img inspect -f '{{json .Config.Cmd}} {{if eq .HostConfig.NetworkMode "bridge"}}bridged{{end}}' bg)" \
  "$(img inspect bg | jq -c '.[0].Config.Cmd') bridged"
fails "inspect --type image of a container's name" img inspect --type image bg
like "is not found as an image" "$LAST_OUT" "no such image: 'bg'"
fails "a template that does not parse" img inspect -f '{{.State' bg
like "says so in one line" "$LAST_OUT" "^imgtool: template: unclosed action"
like "ps --format" "$(img ps --format '{{.Names}} {{.State}}')" "(^|"$'\n'")bg running"
out=$(img ps --format 'table {{.ID}}\t{{.Names}}')
like "ps --format table: docker's header, aligned" "$out" "^CONTAINER ID   NAMES"$'\n'"${id:0:12}   bg"
ok "stop" img stop -t 10 bg
is "inspect after the exit: status and exit code" \
  "$(img inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}' bg)" "exited 7 0"
like "ps -a: exited by its TERM trap" "$(img ps -a)" "Exited \(7\) .* bg"
is "logs after stop" "$(img logs bg 2>/dev/null)" "$(printf 'out\nbye')"
fails "kill of a stopped container" img kill bg
# doc:exit-multi doc:exit-1: each name acted on, one error line for each
# that failed, and 1 if any did
out=$(img rm nosuch-a bg nosuch-b 2>&1); rc=$?
is "rm of two unknown names and one container exits 1" "$rc" 1
is "... with one error line for each unknown name" "$(grep -c '^imgtool: ' <<< "$out")" 2
like "... naming both" "$out" "nosuch-a.*nosuch-b"
fails "gone" img logs bg
is "no cgroup left" "$(cgroups_of "$id")" ""

id=$(img run -d $IMG sleep 1000)
ok "kill -s" img kill -s SIGKILL "${id:0:12}"
ok "rm -f after kill" img rm -f "${id:0:12}"
id=$(img run -d --rm $IMG sleep 1000)
ok "rm -f of a running --rm container" img rm -f "$id"
is "nothing left of it" "$(ls "$IMGTOOL_ROOT/containers" | grep -c "$id")" 0
# run --rm in the foreground: the record is gone when run returns, its
# files are deleted by a remover of its own (runtime/state.c) soon after
n_before=$(img ps -a -q | wc -l)
img run --rm $IMG true
is "run --rm: no record left when it returns" "$(img ps -a -q | wc -l)" "$n_before"
for _ in $(seq 50); do
  ls -a "$IMGTOOL_ROOT/containers" | grep -q '^\.removing-' || break
  sleep 0.1
done
is "and its files are deleted in the background" \
  "$(ls -a "$IMGTOOL_ROOT/containers" | grep -c '^\.removing-')" 0
# a remover killed midway leaves its directory: prune deletes it
mkdir -p "$IMGTOOL_ROOT/containers/.removing-$(printf '%064d' 7)/upper/etc"
touch "$IMGTOOL_ROOT/containers/.removing-$(printf '%064d' 7)/upper/etc/passwd"
img prune >/dev/null
is "prune deletes what a killed remover left" \
  "$(ls -a "$IMGTOOL_ROOT/containers" | grep -c '^\.removing-')" 0
is "and no cgroup" "$(cgroups_of "$id")" ""
id=$(img run -d --rm $IMG sh -c 'exit 0')
img logs -f "$id" >/dev/null 2>&1
fails "a detached --rm container removes itself" img rm "$id"

# --- terminal (driven through a pty, as a user at a terminal) ---
PTY="$TESTS_DIR/helpers/pty-drive.py"
out=$("$PTY" --size 30x100 --expect '/ # ' --send 'echo hi; tty; stty size; exit 3\n' \
      -- "$IMGTOOL" run --rm -it $IMG sh 2>&1); rc=$?
is "-it: the shell's exit status" "$rc" 3
like "-it: what is typed runs" "$out" $'\nhi\n'
like "-it: the pty is the container's" "$out" $'\n/dev/pts/[0-9]+\n'
like "-it: with the outer terminal's size" "$out" $'\n30 100$'
out=$("$PTY" --size 30x100 --expect ready --resize 40x120 --send '\n' \
      -- "$IMGTOOL" run --rm -it $IMG sh -c 'stty size; echo ready; read x; stty size' 2>&1)
like "-it: the size follows a resize (SIGWINCH)" "$out" $'30 100\nready\n.*40 120'
out=$("$PTY" --expect ready --send '\x03' \
      -- "$IMGTOOL" run --rm -it $IMG sh -c 'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 1; done' 2>&1); rc=$?
is "-it: Ctrl-C goes to the container, whose trap decides (exit 9)" "$rc" 9
like "-it: the container saw SIGINT" "$out" "got-int"
out=$("$PTY" -- "$IMGTOOL" run --rm -t $IMG sh -c 'tty; ls -l /dev/console; echo ctty > /dev/tty' 2>&1)
like "-t without -i: a pty too" "$out" $'^/dev/pts/[0-9]+\n'
like "-t: /dev/console is that pty (136:N)" "$out" "136, +[0-9]+ .*/dev/console"
like "-t: the controlling terminal" "$out" $'\nctty$'
out=$(img run --rm -it $IMG true </dev/null 2>&1); rc=$?
is "-it without a terminal on stdin: 125" "$rc" 125
like "with docker's message" "$out" "the input device is not a TTY"

id=$(img run -d -t $IMG sh -c 'tty; echo out')
img logs -f "$id" >/dev/null 2>&1
like "-d -t: the pty's output is logged" "$(img logs "$id" | tr -d '\r')" $'^/dev/pts/[0-9]+\nout$'
img rm -f "$id" >/dev/null

img run -d --name tty $IMG sleep 1000 >/dev/null
out=$("$PTY" --size 31x101 --expect '/ # ' --send 'tty; stty size; exit 5\n' \
      -- "$IMGTOOL" exec -it tty sh 2>&1); rc=$?
is "exec -it: the shell's exit status" "$rc" 5
like "exec -it: a pty of the container's devpts" "$out" $'\n/dev/pts/[0-9]+\n'
like "exec -it: with the outer terminal's size" "$out" $'\n31 101$'
out=$("$PTY" --size 31x101 --expect ready --resize 41x121 --send '\n' \
      -- "$IMGTOOL" exec -it tty sh -c 'stty size; echo ready; read x; stty size' 2>&1)
like "exec -it: the size follows a resize" "$out" $'31 101\nready\n.*41 121'
out=$("$PTY" --expect ready --signal TERM \
      -- "$IMGTOOL" exec -t tty sh -c 'trap "echo got-term; exit 8" TERM; echo ready; while :; do sleep 1; done' 2>&1); rc=$?
is "exec -t forwards SIGTERM to the process (its trap: 8)" "$rc" 8
like "exec -t: the process saw it" "$out" "got-term"
ok "rm -f tty" img rm -f tty

# --- signal state: the container starts with no signal blocked or ignored,
# whatever imgtool inherited (imgtool blocks what it forwards itself) ---
blocked () { python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
os.execvp(sys.argv[1], sys.argv[1:])' "$@"; }
out=$(blocked "$IMGTOOL" run --rm $IMG sh -c 'kill -INT $$; echo survived' 2>&1); rc=$?
is "SIGINT blocked in imgtool: default SIGINT in the container (130)" "$rc" 130
is "and it did not survive" "$out" ""
out=$(blocked "$IMGTOOL" run --rm $IMG sh -c 'sh -c "kill -INT \$\$; echo survived"; echo $?' 2>&1)
is "the same for the container's children" "$out" "130"
out=$(trap '' INT; exec "$IMGTOOL" run --rm $IMG sh -c 'sh -c "kill -INT \$\$; echo survived"; echo $?' 2>&1)
is "SIGINT ignored in imgtool: default in the container" "$out" "130"
img run -d --name sig $IMG sleep 1000 >/dev/null
out=$(blocked "$IMGTOOL" exec sig sh -c 'kill -INT $$; echo survived' 2>&1); rc=$?
is "exec: default SIGINT too (130)" "$rc" 130
ok "rm -f sig" img rm -f sig

# --- a --rm container's upper dir goes with it: mounted without syncs ---
like "run --rm: the root overlay is volatile" \
  "$(img run --rm $IMG grep ' / ' /proc/mounts)" "fsync=volatile"
is "run without --rm: it is not" \
  "$(img run --name keeproot $IMG grep -c 'fsync=volatile' /proc/mounts)" 0
img rm keeproot >/dev/null 2>&1

# --- what a record costs (lib/fs.h's fsync rule): a --rm container's
# record is transient, a kept container's record is made durable ---
if command -v strace >/dev/null; then
  fsyncs () { strace -f -qq -e trace=fsync,fdatasync -o "$T_TMP/fsync.trace" "$@" >/dev/null 2>&1
              grep -c 'fsync' "$T_TMP/fsync.trace"; }
  is "run --rm: no fsync" "$(fsyncs "$IMGTOOL" run --rm $IMG true)" 0
  n=$(fsyncs "$IMGTOOL" run --name durable $IMG true)
  ok "run without --rm: the record is fsynced ($n)" test "$n" -gt 0
  like "and its record is there" "$(img ps -a | grep durable)" "Exited \(0\)"
  img rm durable >/dev/null 2>&1
else
  skip "strace not installed"
fi

# --- run --pull, against the lab's registry, on an empty store ---
if [ -n "${LAB_HTTP:-}" ]; then
  main_root=$IMGTOOL_ROOT
  export IMGTOOL_ROOT="$T_TMP/pullroot"
  out=$(img run --rm --pull never busybox echo hi 2>&1); rc=$?
  is "--pull never on an empty store: 125" "$rc" 125
  is "with one clear line" "$out" "imgtool: image 'busybox' is not in the store (--pull never)"
  out=$(img run --rm --tls-verify=false "$LAB_HTTP/library/busybox:latest" echo hi 2>"$T_TMP/pull.err"); rc=$?
  is "run pulls a missing image (default --pull missing) and runs it" "$rc:$out" "0:hi"
  like "saying it was not found locally, on stderr" "$(cat "$T_TMP/pull.err")" \
    "Unable to find image '$LAB_HTTP/library/busybox:latest' locally"
  ok "the image is in the store now" img inspect "$LAB_HTTP/library/busybox:latest"
  out=$(img run --rm --pull never --tls-verify=false "$LAB_HTTP/library/busybox:latest" echo again 2>&1)
  is "--pull never uses it" "$out" "again"
  fails "--tls-verify is on by default (the lab's :${LAB_HTTP##*:} is plain HTTP)" \
    img run --rm --pull always "$LAB_HTTP/library/busybox:latest" true
  like "with the pull's error" "$LAST_OUT" $'\n'"imgtool: pull '$LAB_HTTP/library/busybox:latest': tls"
  out=$(img run --rm --pull always --tls-verify=false "$LAB_HTTP/library/busybox:latest" echo always 2>/dev/null)
  is "--pull always pulls and runs" "$out" "always"
  out=$(img run --rm --tls-verify=false "$LAB_HTTP/library/nosuch:latest" true 2>&1); rc=$?
  is "an image the registry does not have: 125" "$rc" 125
  like "and says so" "$out" "manifest 'latest' not found"
  out=$(img run --rm --platform linux/arm64 --tls-verify=false "$LAB_HTTP/library/busybox:1.35" true 2>&1); rc=$?
  like "--platform picks the manifest pulled and run (arm64 here: exec format error)" "$rc:$out" "^126:.*Exec format error"
  export IMGTOOL_ROOT=$main_root
else
  skip "run --pull: the lab is not up"
fi

done_testing
