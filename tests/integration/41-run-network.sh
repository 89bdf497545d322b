#!/bin/bash
# `imgtool run` with bridge networking (the default), --network none and
# host, -p and -P, as a user sees them. The script re-runs itself in a new
# network namespace that stands for the host; everything imgtool makes
# (imgtool0, veths, the nft table) lives in it, and traffic goes only to
# addresses inside it and to its loopback.
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

R=$IMGTOOL_ROOT
HOLDERS=()
cleanup () {
  for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null; done
  # containers still running (a failed check): by their recorded pids
  kill_recorded_containers
}
trap cleanup EXIT

ip link set lo up
# The "host"'s own address, on a veth pair inside this namespace.
ip link add hostv0 type veth peer name hostv1
ip addr add 10.90.0.1/24 dev hostv0
ip link set hostv0 up; ip link set hostv1 up

"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" docker.io/library/exposed:latest \
  --config.exposedports 80/tcp --config.exposedports 81/tcp >/dev/null 2>&1
ok "fixture images in the store" img inspect exposed

lease_count () { find "$R/networks/bridge/leases" -type f 2>/dev/null | wc -l; }
veth_count () { ip -o link show | grep -c ' imgv'; }
# The kernel deletes a dead container's veth with its netns, a moment
# later (netns cleanup is asynchronous): wait for it, bounded.
veths_settle () {
  for _ in $(seq 100); do [ "$(veth_count)" -le "$1" ] && break; sleep 0.05; done
  veth_count
}
rule_count () { nft list chain inet imgtool hostports 2>/dev/null | grep -c 'dnat ip to'; }
port_count () { find "$R/networks/ports" -type f 2>/dev/null | wc -l; }
state_of () { jq -r "$2" "$R/containers/$1/state.json"; }
# Wait (bounded) until a URL answers; prints the body.
fetch () {
  local out
  for _ in $(seq 100); do
    out=$(curl -s -m 5 "$1") && [ -n "$out" ] && { echo "$out"; return 0; }
    sleep 0.1
  done
  return 1
}
HTTPD='mkdir -p /www && echo "hi from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'

# --- bridge is the default ---
out=$(img run --rm busybox ip addr 2>&1)
like "run: eth0 has an address on the bridge" "$out" 'inet 10\.89\.0\.[0-9]+/16 '
like "run: lo is up with 127.0.0.1" "$out" 'inet 127\.0\.0\.1/8 '
like "run: eth0 is up" "$out" 'eth0@[^ ]*: <[^>]*,UP'
like "run: a default route via the gateway" "$(img run --rm busybox ip route)" \
  '(^|'$'\n'')default via 10\.89\.0\.1 dev eth0 '

hosts=$(img run --rm --name me busybox cat /etc/hosts)
like "/etc/hosts names the container itself" "$hosts" $'10\\.89\\.0\\.[0-9]+\t[0-9a-f]{12} me'
like "/etc/hosts has localhost" "$hosts" $'127\\.0\\.0\\.1\tlocalhost'
like "the bridge holds the gateway" "$(ip -4 -o addr show imgtool0)" 'inet 10\.89\.0\.1/16 '
is "a --rm container leaves no lease" "$(lease_count)" 0
is "... and no veth" "$(veths_settle 0)" 0
# the firewall table is probed over netlink: libnftables is loaded only
# when a rule must change (ports published, the table missing)
is "a bridged run without -p does not load libnftables" \
  "$(LD_DEBUG=files img run --rm busybox true 2>&1 | grep -c 'file=libnftables')" 0
nft delete table inet imgtool
ok "a deleted firewall table ..." img run --rm busybox true
like "... is made again by the next run" "$(nft list tables)" 'table inet imgtool'

# --- a published port ---
id=$(img run -d --name web -p 8080:80 busybox sh -c "$HTTPD")
like "run -d -p prints the id" "$id" '^[0-9a-f]{64}$'
is "the web server answers on 127.0.0.1:8080" "$(fetch http://127.0.0.1:8080/)" "hi from ${id:0:12}"
is "... and on the host's own address" "$(fetch http://10.90.0.1:8080/)" "hi from ${id:0:12}"
like "ps shows the published port" "$(img ps)" "${id:0:12} .* Up .* 0\.0\.0\.0:8080->80/tcp +web"
webip=$(state_of "$id" .ip)
like "the container's state records its address" "$webip" '^10\.89\.0\.[0-9]+$'
is "inspect -f: the address, as with docker" \
  "$(img inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web)" "$webip"
is "inspect -f: the published port" \
  "$(img inspect -f '{{(index .NetworkSettings.Ports "80/tcp")}}' web)" "[map[HostIp:0.0.0.0 HostPort:8080]]"
is "network inspect agrees" \
  "$(img network inspect | jq -r ".[0].Containers[\"$id\"].IPv4Address")" "$webip/16"
req='printf "GET / HTTP/1.0\r\n\r\n" | nc'
like "container -> container by IP" "$(img run --rm busybox sh -c "$req $webip 80")" "hi from ${id:0:12}"
like "container -> container by name" "$(img run --rm busybox sh -c "$req web 80")" "hi from ${id:0:12}"
id2=$(img run -d --name db busybox sleep 1000)
ok "a container started later is in the earlier one's /etc/hosts" \
  grep -Eq "^10\.89\.0\.[0-9]+"$'\t'"(.* )?db( |\$)" <(img exec web cat /etc/hosts)
ok "... and the earlier one in its" \
  grep -Eq "^$webip"$'\t'"(.* )?web( |\$)" <(img exec db cat /etc/hosts)

# --- port clashes fail clearly and leave nothing ---
leases=$(lease_count) veths=$(veth_count) rules=$(rule_count) ports=$(port_count)
out=$(img run -d -p 8080:80 busybox sleep 1000 2>&1); rc=$?
is "a clash with another container exits 125" "$rc" 125
is "... with one line" "$(echo "$out" | wc -l)" 1
like "... that says the port is taken" "$out" "^imgtool: network 'bridge': port 8080/tcp is already allocated$"
busybox nc -l -p 7070 > /dev/null &
HNC=$!; HOLDERS+=("$HNC")
for _ in $(seq 100); do ss -Hltn 'sport = :7070' | grep -q . && break; sleep 0.05; done
out=$(img run --rm -p 7070:80 busybox true 2>&1); rc=$?
is "a clash with a host service exits 125" "$rc" 125
like "... naming the address" "$out" "^imgtool: network 'bridge': bind 0\.0\.0\.0:7070: "
kill "$HNC"; wait "$HNC" 2>/dev/null
is "failed starts leave no lease" "$(lease_count)" "$leases"
is "... no veth" "$(veths_settle "$veths")" "$veths"
is "... no rule" "$(rule_count)" "$rules"
is "... no port record" "$(port_count)" "$ports"
fails "-p with --network none is refused" img run --rm --network none -p 80 busybox true
fails "a bad -p is refused" img run --rm -p 80:http busybox true
like "... with a clear error" "$LAST_OUT" "^imgtool: publish '80:http': invalid container port 'http'$"

# --- stop and rm take the network with them ---
ok "stop web" img stop -t 1 web
is "stop released the port rule" "$(rule_count)" 0
is "... and the lease (db's remains)" "$(lease_count)" 1
like "ps -a shows no ports for an exited container" "$(img ps -a)" "Exited .*   web"
fails "port 8080 is closed" curl -s -m 2 http://127.0.0.1:8080/
ok "rm -f db" img rm -f db
is "rm -f released its lease" "$(lease_count)" 0
ok "rm web" img rm web
is "no veth left" "$(veths_settle 0)" 0

# --- -P publishes the EXPOSEd ports on random host ports ---
idp=$(img run -d -P exposed sh -c "$HTTPD")
p80=$(state_of "$idp" .ports)
like "ps shows both exposed ports" "$(img ps)" '0\.0\.0\.0:[0-9]+->80/tcp, 0\.0\.0\.0:[0-9]+->81/tcp'
hp=$(echo "$p80" | sed -n 's/.*0\.0\.0\.0:\([0-9]*\)->80\/tcp.*/\1/p')
like "port 80 got a random host port" "$hp" '^[0-9]+$'
is "the random port answers" "$(fetch "http://127.0.0.1:$hp/")" "hi from ${idp:0:12}"
idq=$(img run -d -P -p 9080:80 exposed sleep 1000)
like "-p wins over -P for the same port" "$(state_of "$idq" .ports)" '^0\.0\.0\.0:9080->80/tcp, 0\.0\.0\.0:[0-9]+->81/tcp$'
ok "rm -f the -P containers" img rm -f "$idp" "$idq"
is "no rule left" "$(rule_count)" 0

# --- foreground: the network goes when the container exits ---
ok "a foreground container with a published port" img run -p 8300:80 --name fg busybox true
is "its lease is gone" "$(lease_count)" 0
is "its rule is gone" "$(rule_count)" 0
is "its port record is gone" "$(port_count)" 0
ok "rm fg" img rm fg

# --- none and host ---
is "--network none: only lo" "$(img run --rm --network none busybox ls /sys/class/net)" lo
like "--network none: lo is up" "$(img run --rm --network none busybox ip -o addr show lo)" 'inet 127\.0\.0\.1/8'
out=$(img run --rm --network host busybox ls /sys/class/net)
like "--network host sees the namespace's interfaces" "$out" 'hostv0'
like "... the bridge too" "$out" 'imgtool0'
like "--network host: its addresses" "$(img run --rm --network host busybox ip -4 -o addr)" '10\.90\.0\.1/24'

# --- a build step with bridge networking ---
mkdir -p "$T_TMP/bnet"
cat > "$T_TMP/bnet/Buildfile" <<'EOF'
FROM busybox
EXPOSE 80
RUN ip -4 -o addr show eth0 > /addr
EOF
ok "build --network bridge" img build -q --network bridge -t bnet "$T_TMP/bnet"
like "the RUN step had an address on the bridge" "$(img run --rm --network none bnet cat /addr)" \
  'inet 10\.89\.0\.[0-9]+/16'
is "the step's lease is gone" "$(lease_count)" 0
is "... and its veth" "$(veths_settle 0)" 0
out=$(img build -q --network nosuch -t x "$T_TMP/bnet" 2>&1)
like "build --network checks its value" "$out" "^imgtool: --network 'nosuch': use host, none or bridge$"
idb=$(img run -d -P bnet sleep 1000)
like "-P publishes a Buildfile's EXPOSE" "$(state_of "$idb" .ports)" '^0\.0\.0\.0:[0-9]+->80/tcp$'
ok "rm -f it" img rm -f "$idb"

# --- 50 containers started and removed leave nothing ---
ids=()
for i in $(seq 50); do
  ids+=("$(img run -d -p $((8400 + i)):80 busybox sleep 1000)")
done
is "50 containers started" "$(img ps -q | wc -l)" 50
is "50 leases" "$(lease_count)" 50
is "50 distinct addresses" "$(for i in "${ids[@]}"; do state_of "$i" .ip; done | sort -u | wc -l)" 50
is "50 veths" "$(veth_count)" 50
is "50 rules" "$(rule_count)" 50
ok "rm -f all 50" img rm -f "${ids[@]}"
is "after 50: no lease" "$(lease_count)" 0
is "after 50: no veth" "$(veths_settle 0)" 0
is "after 50: no rule" "$(rule_count)" 0
is "after 50: no port record" "$(port_count)" 0

# --- kill -9 of the monitor: the next command reclaims everything ---
idk=$(img run -d --name victim -p 8500:80 busybox sleep 1000)
cpid=$(state_of "$idk" .pid)
mpid=$(awk '{print $4}' "/proc/$cpid/stat")
like "the container's parent is its monitor" "$(tr '\0' ' ' < "/proc/$mpid/cmdline")" 'imgtool|memfd'
# Something else keeps the container's netns (and so its veth) alive.
nsenter -t "$cpid" -n sleep 1000 &
HOLDERS+=($!)
for _ in $(seq 100); do
  [ "$(readlink /proc/$!/ns/net)" = "$(readlink /proc/$cpid/ns/net)" ] && break; sleep 0.02
done
kill -9 "$mpid" "$cpid"
while [ -d "/proc/$cpid" ] && ! grep -q '^State:.*Z' "/proc/$cpid/status" 2>/dev/null; do sleep 0.02; done
is "before the next command: the stale lease is there" "$(lease_count)" 1
is "... its rule" "$(rule_count)" 1
is "... its veth" "$(veth_count)" 1
ok "the next command (ps) runs" img ps
is "after it: no lease" "$(lease_count)" 0
is "... no rule" "$(rule_count)" 0
is "... no veth" "$(veth_count)" 0
is "... no port record" "$(port_count)" 0
id3=$(img run -d -p 8500:80 busybox sleep 1000)
like "the reclaimed port can be published again" "$(state_of "$id3" .ports)" '^0\.0\.0\.0:8500->80/tcp$'
ok "rm -f it" img rm -f "$id3" victim

done_testing
