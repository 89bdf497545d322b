#!/bin/bash
# run's everyday flags (docs/commands.md, run): each checked inside the
# container it changes, against the kernel's own view where there is one.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap kill_recorded_containers EXIT
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
ok "fixture image in the store" img inspect busybox
run () { img run --rm --network none "$@" 2>&1; }

# --ulimit
is "doc:ulimit soft and hard" "$(run --ulimit nofile=1024:2048 busybox sh -c 'ulimit -n; ulimit -Hn' | tr '\n' ' ')" "1024 2048 "
is "hard defaults to soft" "$(run --ulimit nproc=77 busybox sh -c 'ulimit -u; ulimit -Hu' | tr '\n' ' ')" "77 77 "
is "a later one of the same name wins" "$(run --ulimit nofile=100 --ulimit nofile=200 busybox sh -c 'ulimit -n')" 200
fails "soft above hard" img run --rm --network none --ulimit nofile=20:10 busybox true
is "exit 125" "$(img run --rm --network none --ulimit nofile=20:10 busybox true >/dev/null 2>&1; echo $?)" 125
fails "an unknown name" img run --rm --network none --ulimit files=1 busybox true
like "one line naming it" "$LAST_OUT" "invalid ulimit 'files=1'"

img run -d --name limited --network none --ulimit nofile=100:200 --add-host foo:1.2.3.4 busybox sleep 1000 >/dev/null
is "inspect's Ulimits" "$(img inspect -f '{{json .HostConfig.Ulimits}}' limited)" '[{"Name":"nofile","Soft":100,"Hard":200}]'
is "inspect's ExtraHosts" "$(img inspect -f '{{json .HostConfig.ExtraHosts}}' limited)" '["foo:1.2.3.4"]'
img rm -f limited >/dev/null

# --shm-size
is "doc:shm-size /dev/shm's size" "$(run --shm-size 128m busybox df -k /dev/shm | awk 'NR==2{print $2}')" 131072
is "docker's 64m by default" "$(run busybox df -k /dev/shm | awk 'NR==2{print $2}')" 65536
fails "a size of 0" img run --rm --network none --shm-size 0 busybox true

# --sysctl
is "doc:sysctl net.* in the container's network namespace" \
  "$(run --sysctl net.ipv4.ip_forward=1 busybox cat /proc/sys/net/ipv4/ip_forward)" 1
is "the host's is untouched" "$(cat /proc/sys/net/ipv4/ip_forward)" "$(cat /proc/sys/net/ipv4/ip_forward)"
is "kernel.shm* in its IPC namespace" \
  "$(run --sysctl kernel.shmmax=1234567 busybox cat /proc/sys/kernel/shmmax)" 1234567
host_shm=$(cat /proc/sys/kernel/shmmax)
is "the host's kernel.shmmax is untouched" "$(cat /proc/sys/kernel/shmmax)" "$host_shm"
fails "a sysctl that is not namespaced" img run --rm --network none --sysctl kernel.hostname=x busybox true
like "is refused by name" "$LAST_OUT" "sysctl 'kernel.hostname' is not allowed"
fails "net.* with the host's network" img run --rm --network host --sysctl net.ipv4.ip_forward=1 busybox true
like "is refused" "$LAST_OUT" "not allowed in the host's network namespace"
fails "not KEY=VALUE" img run --rm --network none --sysctl net.ipv4.ip_forward busybox true

# --init
is "doc:init PID 1 is the init" "$(run --init busybox cat /proc/1/cmdline | tr -d '\0')" "init"
is "the command is its child" "$(run --init busybox sh -c 'cat /proc/$$/stat' | awk '{print $4}')" 1
is "the command's status is the container's" "$(img run --rm --network none --init busybox sh -c 'exit 3' >/dev/null 2>&1; echo $?)" 3
is "a command that is not there: 127" "$(img run --rm --network none --init busybox nosuchcmd >/dev/null 2>&1; echo $?)" 127
like "with its error" "$(run --init busybox nosuchcmd)" "exec: 'nosuchcmd'"
unlike "no environment of imgtool's in PID 1" "$(IMGTOOL_SECRET_PROBE=s3cr3t img run --rm --network none --init busybox sh -c 'cat /proc/1/environ | tr "\0" "\n"')" "s3cr3t"
# an orphan is reaped by the init (without it, sh as PID 1 leaves it a zombie)
zombies='(sleep 0 &); i=0; while [ $i -lt 300 ]; do z=$(ps -o stat | grep -c "^Z"); [ "$z" = 0 ] && break; i=$((i+1)); sleep 0.1; done; echo $z'
is "orphans are reaped" "$(run --init busybox sh -c "sleep 0.2; $zombies")" 0
# stop's SIGTERM reaches a command that PID 1 would have ignored
img run -d --name initstop --network none --init busybox sleep 1000 >/dev/null
img stop -t 120 initstop >/dev/null
is "SIGTERM is forwarded: the command dies of it (143), not of stop's SIGKILL" \
  "$(img inspect -f '{{.State.ExitCode}}' initstop)" 143
img rm initstop >/dev/null
is "--init=false" "$(run --init=false busybox cat /proc/1/cmdline | tr '\0' ' ')" "cat /proc/1/cmdline "

# --add-host, --dns*
out=$(run --add-host foo:1.2.3.4 --add-host bar=5.6.7.8 --add-host gw:host-gateway busybox cat /etc/hosts)
like "doc:add-host a line per host" "$out" $'\n1\\.2\\.3\\.4\tfoo\n'
like "HOST=IP too" "$out" $'\n5\\.6\\.7\\.8\tbar\n'
like "host-gateway is the network's gateway" "$out" $'\n10\\.89\\.0\\.1\tgw'
fails "a bad address" img run --rm --network none --add-host foo:1.2.3 busybox true
like "is refused" "$LAST_OUT" "invalid IP address in add-host"
out=$(img run --rm --add-host foo:1.2.3.4 busybox cat /etc/hosts 2>&1)
like "on the bridge: the network's names" "$out" "host.containers.internal"
like "and the extra line" "$out" $'\n1\\.2\\.3\\.4\tfoo'
unlike "the network's shared file is untouched" "$(cat "$R/networks/bridge/hosts")" "foo"
out=$(img run --rm --dns 9.9.9.9 --dns 1.1.1.1 --dns-search example.com --dns-option ndots:2 busybox cat /etc/resolv.conf 2>&1)
is "doc:dns the nameservers, search and options replaced" "$(echo "$out" | grep -v '^#')" \
  "$(printf 'nameserver 9.9.9.9\nnameserver 1.1.1.1\nsearch example.com\noptions ndots:2')"
is "--network none too" "$(run --dns 9.9.9.9 busybox grep -c nameserver /etc/resolv.conf)" 1
fails "--dns takes an address" img run --rm --network none --dns nameserver busybox true

# --group-add
is "doc:group-add by gid and by name" "$(run --group-add 4242 --group-add wheel busybox id -G)" "0 10 4242"
fails "a group that is not there" img run --rm --network none --group-add nosuchgroup busybox true
like "names it" "$LAST_OUT" "unable to find group nosuchgroup"

# --label, --label-file, --expose
printf '# a comment\n\nfile=1\nboth=file\n' > "$T_TMP/labels"
img run -d --name labeled --network none --label-file "$T_TMP/labels" --label both=flag --label bare \
  --expose 8000-8001 --expose 53/udp busybox sleep 1000 >/dev/null
is "doc:label inspect's Config.Labels" "$(img inspect -f '{{json .Config.Labels}}' labeled)" \
  '{"file":"1","both":"flag","bare":""}'
like "ps's Labels" "$(img ps --format '{{.Labels}}' --no-trunc)" "file=1"
is "doc:expose inspect's Config.ExposedPorts" "$(img inspect -f '{{json .Config.ExposedPorts}}' labeled)" \
  '{"8000/tcp":{},"8001/tcp":{},"53/udp":{}}'
img rm -f labeled >/dev/null
fails "a bad --expose" img run --rm --network none --expose 70000 busybox true
out=$(img run --rm --expose 7777 -P busybox true 2>&1; echo rc=$?)
like "-P publishes --expose's ports" "$out" "rc=0"

# --cidfile
ok "doc:cidfile" img run --rm --network none --cidfile "$T_TMP/cid" busybox true
like "holds the ID" "$(cat "$T_TMP/cid")" '^[0-9a-f]{64}$'
fails "an existing file is refused" img run --rm --network none --cidfile "$T_TMP/cid" busybox true
like "as docker says" "$LAST_OUT" "container ID file found"

# --security-opt apparmor/label
out=$(img run --rm --network none --security-opt apparmor=unconfined --security-opt label=disable busybox echo ran 2>&1)
like "doc:security-opt-note accepted" "$out" "ran"
like "with a note" "$out" "apparmor=unconfined: not applied"
fails "an unknown --security-opt" img run --rm --network none --security-opt foo=bar busybox true
# --pid, --ipc, --network container:NAME
img run -d --name donor --ipc shareable --network none busybox sh -c 'echo donor > /tmp/mark; sleep 1000' >/dev/null
donor_pid=$(jq -r .pid "$R/containers/$(img inspect -f '{{.Id}}' donor)/state.json")
out=$(run --pid container:donor busybox ps -o comm)
like "doc:pid-container the donor's processes are seen" "$out" "sleep"
is "in its pid namespace" "$(run --pid container:donor busybox readlink /proc/self/ns/pid)" "$(readlink /proc/$donor_pid/ns/pid)"
is "doc:pid-host the host's pid namespace" "$(run --pid host busybox readlink /proc/self/ns/pid)" "$(readlink /proc/self/ns/pid)"
is "doc:ipc-container the donor's IPC namespace" "$(run --ipc container:donor busybox readlink /proc/self/ns/ipc)" "$(readlink /proc/$donor_pid/ns/ipc)"
is "--ipc host" "$(run --ipc host busybox readlink /proc/self/ns/ipc)" "$(readlink /proc/self/ns/ipc)"
unlike "private by default" "$(run busybox readlink /proc/self/ns/ipc)" "$(readlink /proc/self/ns/ipc)"
img run -d --name private --network none busybox sleep 1000 >/dev/null
fails "a donor that is not shareable" img run --rm --network none --ipc container:private busybox true
like "is refused, as docker" "$LAST_OUT" "non-shareable IPC"
is "doc:net-container the donor's network namespace" \
  "$(img run --rm --network container:donor busybox readlink /proc/self/ns/net 2>&1)" "$(readlink /proc/$donor_pid/ns/net)"
like "inspect says so" "$(img run -d --network container:donor --name netjoin busybox sleep 100 >/dev/null; img inspect -f '{{.HostConfig.NetworkMode}}' netjoin)" \
  "^container:[0-9a-f]{64}$"
img rm -f netjoin >/dev/null
fails "-p with another container's network" img run --rm --network container:donor -p 80:80 busybox true
like "docker's conflict" "$LAST_OUT" "conflicting options: port publishing"
fails "--dns with it" img run --rm --network container:donor --dns 1.1.1.1 busybox true
fails "a container that does not exist" img run --rm --network container:nosuch busybox true
img stop -t 0 donor >/dev/null
fails "a donor that does not run" img run --rm --network none --pid container:donor busybox true
like "as docker says" "$LAST_OUT" "cannot join PID of a non running container"
img rm -f donor private >/dev/null
done_testing
