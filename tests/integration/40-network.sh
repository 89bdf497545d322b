#!/bin/bash
# Container networking (network/net.h) through tests/helpers/nethelper, until
# `run` is wired. The script re-runs itself in a new network namespace that
# stands for the host; "containers" are processes in network namespaces of
# their own (unshare -n). Traffic goes only to addresses inside these
# namespaces and to their loopbacks; the real host's interfaces and firewall
# are never touched.
if [ -z "${IMGTOOL_TEST_NETNS:-}" ]; then
  if unshare -n true 2>/dev/null; then
    IMGTOOL_TEST_NETNS=1 exec unshare -n bash "$0" "$@"
  fi
  . "$(dirname "$0")/../lib.sh"
  skip "cannot make a network namespace (not root?)"
  done_testing
  exit
fi
. "$(dirname "$0")/../lib.sh"

NH=${NETHELPER:-$(dirname "$IMGTOOL")/tests/helpers/nethelper}
R=$IMGTOOL_ROOT
PIDS=()
cleanup () { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

ip link set lo up
# The "host"'s own address, on a veth pair inside this namespace.
ip link add hostv0 type veth peer name hostv1
ip addr add 10.90.0.1/24 dev hostv0
ip link set hostv0 up; ip link set hostv1 up

# Container ids: 64 hex digits, as the runtime makes them.
id_of () { printf 'container-%s' "$1" | sha256sum | cut -c1-64; }
mac_of () { ip -o link show "$1" | grep -o 'link/ether [^ ]*' | cut -d' ' -f2; }
# Start a "container": a process in its own netns; sets CPID.
start_ctr () {
  unshare -n sleep 1000 &
  CPID=$!
  PIDS+=("$CPID")
  local mine; mine=$(readlink /proc/self/ns/net)
  for _ in $(seq 200); do
    [ "$(readlink "/proc/$CPID/ns/net" 2>/dev/null)" != "$mine" ] && return 0
    sleep 0.02
  done
  return 1
}
wait_listen () { # pid|host, tcp port
  local pfx=()
  [ "$1" = host ] || pfx=(nsenter -t "$1" -n)
  for _ in $(seq 250); do
    "${pfx[@]}" ss -Hltn "sport = :$2" | grep -q . && return 0
    sleep 0.02
  done
  return 1
}
in_ctr () { local p=$1; shift; nsenter -t "$p" -n "$@"; }
# Send one line over TCP from netns $1 to $2:$3 where netns $4 listens;
# prints what the listener received. busybox nc does not close on EOF, so
# the listener is stopped (by its pid) once the line has arrived.
nc_line () {
  local from=$1 addr=$2 port=$3 to=$4 line=$5 out="$T_TMP/nc.$RANDOM"
  : > "$out"
  # nsenter itself, not the in_ctr function: $! must be the server's pid
  nsenter -t "$to" -n busybox nc -l -p "$port" > "$out" &
  local lp=$!
  wait_listen "$to" "$port"
  echo "$line" | nsenter -t "$from" -n busybox nc -w 3 "$addr" "$port" > /dev/null &
  local cp=$!
  for _ in $(seq 150); do [ -s "$out" ] && break; sleep 0.02; done
  kill "$lp" "$cp" 2>/dev/null; wait "$lp" "$cp" 2>/dev/null
  cat "$out"
}
lease_count () { find "$R/networks/bridge/leases" -type f 2>/dev/null | wc -l; }
veth_count () { ip -o link show | grep -c ' imgv' ; }
rule_count () { nft list chain inet imgtool hostports 2>/dev/null | grep -c 'dnat ip to'; }
port_count () { find "$R/networks/ports" -type f 2>/dev/null | wc -l; }

# ---- two containers on the bridge ----
# The first two ids share their first 11 digits (the derived veth name).
start_ctr; P1=$CPID; ID1=$(printf '%064x' 1); mkdir -p "$R/containers/$ID1" "$T_TMP/etc1"
start_ctr; P2=$CPID; ID2=$(printf '%064x' 2); mkdir -p "$R/containers/$ID2" "$T_TMP/etc2"

out=$("$NH" setup "$R" "$ID1" "$P1" --name web --etc "$T_TMP/etc1" \
  -p 8080:80 -p 127.0.0.1:8081:80 -p 127.0.0.1::80 -p 5353:53/udp 2>&1)
ok "set up the first container" test $? -eq 0
like "first container gets 10.89.0.2" "$out" '^ip=10\.89\.0\.2 veth=imgv00000000000'
rand=$(echo "$out" | sed -n 's/^port=tcp:\([0-9]*\):80$/\1/p' | tail -1)
like "a random host port is chosen for 127.0.0.1::80" "$rand" '^[0-9]+$'
mac1=$(mac_of imgtool0)

like "eth0 has 10.89.0.2/16" "$(in_ctr "$P1" ip -4 -o addr show eth0)" 'inet 10\.89\.0\.2/16 '
like "lo is up" "$(in_ctr "$P1" ip -o link show lo)" '<LOOPBACK,UP,LOWER_UP>'
like "lo has 127.0.0.1" "$(in_ctr "$P1" ip -4 -o addr show lo)" 'inet 127\.0\.0\.1/8'
is "default route via the gateway" "$(in_ctr "$P1" ip route show default)" "default via 10.89.0.1 dev eth0 "
like "bridge imgtool0 holds the gateway" "$(ip -4 -o addr show imgtool0)" 'inet 10\.89\.0\.1/16 '
is "ip_forward is on" "$(cat /proc/sys/net/ipv4/ip_forward)" 1
is "route_localnet is on for the bridge" "$(cat /proc/sys/net/ipv4/conf/imgtool0/route_localnet)" 1
like "the host end is on the bridge" "$(ip -o link show imgv00000000000)" 'master imgtool0 ' 

out=$("$NH" setup "$R" "$ID2" "$P2" --name db --etc "$T_TMP/etc2" 2>&1)
like "second container gets 10.89.0.3" "$out" '^ip=10\.89\.0\.3 veth=imgv[0-9a-f]{11}$'
fails "ids sharing a prefix get distinct veths" test "${out#*veth=}" = imgv00000000000
like "the first container's veth is still there" "$(ip -o link show imgv00000000000)" 'master imgtool0 '
is "bridge MAC stays pinned as ports come" "$(mac_of imgtool0)" "$mac1"
like "bridge MAC is locally administered" "$mac1" '^02:'

# imgtool network ls / inspect
like "network ls shows the default network with 2 containers" \
  "$(img network ls --format '{{.Name}} {{.Driver}} {{.Subnet}} {{.Gateway}} {{.Bridge}} {{.Containers}}')" \
  'bridge +bridge +10\.89\.0\.0/16 +10\.89\.0\.1 +imgtool0 +2'
like "network ls prints docker's columns" "$(img network ls)" '^NETWORK ID +NAME +DRIVER +SCOPE
[0-9a-f]{12} +bridge +bridge +local$'
insp=$(img network inspect bridge)
like "network inspect lists the first container" "$insp" "\"$ID1\": \\{[^}]*\"Name\": \"web\",[^}]*\"IPv4Address\": \"10\\.89\\.0\\.2/16\""
like "network inspect shows published ports" "$insp" '"0\.0\.0\.0:8080->80/tcp"'
fails "network inspect of an unknown network fails" img network inspect nosuch
like "with a clear error" "$LAST_OUT" "^imgtool: network 'nosuch' not found$"

# /etc files: one hosts file for the network (network/net_etc.c)
hosts2=$(cat "$R/networks/bridge/hosts")
like "hosts has localhost" "$hosts2" $'127\\.0\\.0\\.1\tlocalhost'
like "hosts has the second container's name" "$hosts2" $'10\\.89\\.0\\.3\tdb'
like "hosts has the first container" "$hosts2" $'10\\.89\\.0\\.2\tweb'
like "hosts names the gateway" "$hosts2" $'10\\.89\\.0\\.1\thost\\.containers\\.internal host\\.docker\\.internal'
resolv=$(cat "$T_TMP/etc1/resolv.conf")
like "resolv.conf has a nameserver" "$resolv" 'nameserver '
fails "resolv.conf has no loopback nameserver" grep -q '^nameserver 127\.' "$T_TMP/etc1/resolv.conf"

# container <-> container by IP
ok "ping from one container to the other" in_ctr "$P1" busybox ping -c 1 -W 5 10.89.0.3
is "nc from one container to the other by IP" "$(nc_line "$P2" 10.89.0.2 9000 "$P1" hello-by-ip)" hello-by-ip

# published ports
mkdir -p "$T_TMP/www"; echo hello-from-web > "$T_TMP/www/index.html"
nsenter -t "$P1" -n busybox httpd -f -p 80 -h "$T_TMP/www" &
PIDS+=($!)
wait_listen "$P1" 80
is "published port answers on 127.0.0.1:8080" "$(curl -s -m 10 http://127.0.0.1:8080/)" hello-from-web
is "published port answers on the host's own address" "$(curl -s -m 10 http://10.90.0.1:8080/)" hello-from-web
is "127.0.0.1:8081 answers" "$(curl -s -m 10 http://127.0.0.1:8081/)" hello-from-web
is "the random host port answers" "$(curl -s -m 10 "http://127.0.0.1:$rand/")" hello-from-web
fails "a port published on 127.0.0.1 is not on other addresses" curl -s -m 3 http://10.90.0.1:8081/
is "a container reaches a published port via the host address (hairpin)" \
  "$(in_ctr "$P2" curl -s -m 10 http://10.90.0.1:8080/)" hello-from-web

# A real container through the runtime core (rt_run + a net_bridge):
# its own address, and the other containers by name from /etc/hosts.
LOWER=$T_TMP/lower
mkdir -p "$LOWER/bin" "$LOWER/etc" "$LOWER/proc" "$LOWER/sys" "$LOWER/dev" "$LOWER/tmp"
cp "$(command -v busybox)" "$LOWER/bin/busybox"
for c in sh ip cat hostname nc printf; do ln -s busybox "$LOWER/bin/$c"; done
touch "$LOWER/etc/hosts" "$LOWER/etc/resolv.conf" "$LOWER/etc/hostname"
IDR=$(id_of real)
out=$("$NH" run "$R" "$LOWER" "$IDR" client -- sh -c \
  'ip -4 -o addr show eth0; ip route show default; cat /etc/hosts; printf "GET / HTTP/1.0\r\n\r\n" | nc web 80' 2>&1)
like "runtime container: eth0 from the bridge" "$out" 'inet 10\.89\.0\.4/16'
like "runtime container: default route" "$out" 'default via 10\.89\.0\.1 dev eth0'
like "runtime container: /etc/hosts names itself" "$out" $'10\\.89\\.0\\.4\tclient'
like "runtime container reaches another by name" "$out" 'hello-from-web'
is "the runtime container's lease is gone after teardown" "$(lease_count)" 2

# port clashes: with another container, and with a host service
start_ctr; P3=$CPID; ID3=$(id_of 3); mkdir -p "$R/containers/$ID3"
fails "a second container cannot take 8080" "$NH" setup "$R" "$ID3" "$P3" -p 8080:80
like "the clash is a clear error" "$LAST_OUT" 'port 8080/tcp is already allocated'
busybox nc -l -p 8090 >/dev/null &
HNC=$!; PIDS+=("$HNC")
wait_listen host 8090
fails "a port a host service listens on cannot be published" "$NH" setup "$R" "$ID3" "$P3" -p 8090:80
like "the host clash names the address" "$LAST_OUT" 'bind 0\.0\.0\.0:8090: Address already in use'
kill "$HNC" 2>/dev/null
is "failed setups leave no lease" "$(lease_count)" 2
is "failed setups leave no veth" "$(veth_count)" 2
is "failed setups leave no port record" "$(port_count)" 4
fails "a bad publish spec is refused" "$NH" setup "$R" "$ID3" "$P3" -p 80:http
like "bad spec error" "$LAST_OUT" "publish '80:http': invalid container port 'http'"

# outbound NAT
table=$(nft list table inet imgtool)
like "masquerade rule for the subnet" "$table" 'ip saddr 10\.89\.0\.0/16 oifname != "imgtool0" masquerade'
like "DNAT rule tagged with the container id" "$table" "tcp dport 8080 dnat ip to 10\.89\.0\.2:80 comment \"$ID1\""
like "UDP DNAT rule" "$table" "meta nfproto ipv4 udp dport 5353 dnat ip to 10\.89\.0\.2:53 comment \"$ID1\""
like "loopback-only DNAT rule" "$table" "ip daddr 127\.0\.0\.1 tcp dport 8081 dnat ip to 10\.89\.0\.2:80"
like "loopback is protected from other interfaces" "$table" 'iifname != "lo" ip daddr 127\.0\.0\.0/8 drop'
like "no direct access to the subnet from outside" "$table" 'iifname != "imgtool0" ip daddr 10\.89\.0\.0/16 drop' 
# An "outside" host on 10.91.0.0/24 with no route back to 10.89.0.0/16:
# the container's connection only completes if its source is masqueraded.
start_ctr; PO=$CPID
ip link add vout0 type veth peer name eth0 netns "$PO"
ip addr add 10.91.0.1/24 dev vout0; ip link set vout0 up
in_ctr "$PO" ip addr add 10.91.0.2/24 dev eth0
in_ctr "$PO" ip link set eth0 up
is "outbound traffic is masqueraded" "$(nc_line "$P1" 10.91.0.2 7000 "$PO" hello-outside)" hello-outside

# ---- kill -9 of imgtool: leftovers are reclaimed by gc ----
ok "gc keeps live containers" "$NH" gc "$R"
is "live leases survive gc" "$(lease_count)" 2
is "live rules survive gc" "$(rule_count)" 4
start_ctr; P4=$CPID; ID4=$(id_of 4); mkdir -p "$R/containers/$ID4"
ok "set up a container that will die" "$NH" setup "$R" "$ID4" "$P4" -p 8200:80
start_ctr; P5=$CPID; ID5=$(id_of 5); mkdir -p "$R/containers/$ID5"
ok "set up a container whose dir will vanish" "$NH" setup "$R" "$ID5" "$P5" -p 8201:80
kill -9 "$P4"; wait "$P4" 2>/dev/null
rm -rf "${R:?}/containers/$ID5"
is "before gc: the dead ones' leases remain" "$(lease_count)" 4
ok "gc runs" "$NH" gc "$R"
is "gc reclaims the leases" "$(lease_count)" 2
is "gc removes the rules" "$(rule_count)" 4
is "gc removes the port records" "$(port_count)" 4
is "gc removes the veth of the running container without a dir" "$(veth_count)" 2
ok "teardown of an unknown container is fine (idempotent)" "$NH" teardown "$R" "$ID4"

# ---- concurrent setups get distinct addresses (the lock) ----
cids=(); cpids=()
for i in $(seq 200 209); do
  start_ctr; cpids+=("$CPID"); cids+=("$(id_of "$i")"); mkdir -p "$R/containers/$(id_of "$i")"
done
spids=()
for k in $(seq 0 9); do
  "$NH" setup "$R" "${cids[$k]}" "${cpids[$k]}" > "$T_TMP/par.$k" 2>&1 &
  spids+=($!)
done
wait "${spids[@]}"
is "10 parallel setups all succeed" "$(cat "$T_TMP"/par.* | grep -c '^ip=')" 10
is "and get 10 distinct addresses" "$(cat "$T_TMP"/par.* | grep -o '^ip=[0-9.]*' | sort -u | wc -l)" 10
for k in $(seq 0 9); do "$NH" teardown "$R" "${cids[$k]}"; kill "${cpids[$k]}"; done
is "parallel containers torn down" "$(lease_count)" 2

# ---- 50 attachments come and go without leftovers ----
ids=(); n_ok=0
for i in $(seq 100 149); do
  start_ctr || break
  mkdir -p "$R/containers/$(id_of "$i")"
  "$NH" setup "$R" "$(id_of "$i")" "$CPID" -p "$((20000 + i)):80" > /dev/null && n_ok=$((n_ok + 1))
  ids+=("$(id_of "$i")")
done
is "50 containers attached" "$n_ok" 50
is "52 leases while they run" "$(lease_count)" 52
is "52 veths while they run" "$(veth_count)" 52
is "distinct addresses" "$(cat "$R"/networks/bridge/leases/* | grep -o '"ip":"[^"]*"' | sort -u | wc -l)" 52
n_ok=0
for id in "${ids[@]}"; do "$NH" teardown "$R" "$id" && n_ok=$((n_ok + 1)); done
is "50 containers torn down" "$n_ok" 50
is "no lease left" "$(lease_count)" 2
is "no veth left" "$(veth_count)" 2
is "no rule left" "$(rule_count)" 4
is "no port record left" "$(port_count)" 4

# ---- teardown of the first two ----
ok "tear down the first container" "$NH" teardown "$R" "$ID1"
fails "its port is gone" curl -s -m 3 http://127.0.0.1:8080/
ok "tear down the second container" "$NH" teardown "$R" "$ID2"
is "nothing left: leases" "$(lease_count)" 0
is "nothing left: veths" "$(veth_count)" 0
is "nothing left: rules" "$(rule_count)" 0

# ---- the subnet from the config file, in a fresh netns ----
echo '{"default-network": {"subnet": "10.77.0.0/24"}}' > "$T_TMP/net.json"
start_ctr; P6=$CPID; ID6=$(id_of 6)
out=$(unshare -n sh -c "ip link set lo up; mkdir -p '$T_TMP/r2/containers/$ID6';
  '$NH' setup '$T_TMP/r2' '$ID6' '$P6' --config '$T_TMP/net.json' && ip -4 -o addr show imgtool0" 2>&1)
like "config subnet: the container gets 10.77.0.2" "$out" 'ip=10\.77\.0\.2 '
like "config subnet: the bridge holds 10.77.0.1/24" "$out" 'inet 10\.77\.0\.1/24 '
echo '{"default-network": {"subnet": "10.77.0.1/24"}}' > "$T_TMP/bad.json"
fails "a subnet that is not a network address is refused" "$NH" setup "$R" "$ID6" "$P6" --config "$T_TMP/bad.json"
like "bad subnet error" "$LAST_OUT" "invalid|not a network address"

# ---- cost of setup + teardown (reported, not asserted) ----
bench=$("$NH" bench "$R" 20 2>&1)
like "bench loop of 20 container starts and exits" "$bench" '^setup_ms median='
is "the bench leaves no lease" "$(lease_count)" 0
echo "# net_setup/net_teardown, back to back: $bench"

done_testing
