#!/bin/bash
# User-defined networks: network create/rm/ls/inspect/prune and
# run --network NAME (network/netdef.c). The script re-runs itself in a new
# network namespace that stands for the host; every bridge, veth and rule
# imgtool makes lives in it, and traffic goes only to addresses inside it.
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
trap kill_recorded_containers EXIT

ip link set lo up
# "Outside": an address of the host on a veth pair inside this namespace.
ip link add outv0 type veth peer name outv1
ip addr add 192.168.77.1/24 dev outv0
ip link set outv0 up; ip link set outv1 up
# a server there, for the containers to reach (or not)
/usr/bin/python3 -c '
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"outside")
    def log_message(self, *a): pass
http.server.HTTPServer(("192.168.77.1", 8077), H).serve_forever()' &
OUTSIDE=$!
trap 'kill $OUTSIDE 2>/dev/null; kill_recorded_containers' EXIT
for _ in $(seq 100); do curl -s -m 2 http://192.168.77.1:8077/ >/dev/null && break; sleep 0.1; done
is "the outside server answers the host" "$(curl -s -m 5 http://192.168.77.1:8077/)" outside

"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
ok "fixture image in the store" img inspect busybox

HTTPD='mkdir -p /www && echo "hi from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'
# An HTTP GET (busybox nc) from a fresh container on network $1 to host $2
# port $3, printing the body's last line; bounded retries while a server
# comes up, or with $4 one try that is expected to fail (nc's error).
get () { img run --rm --network "$1" busybox sh -c \
  "for i in \$(seq 50); do printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $2 $3 | tail -n 1 | grep . && exit 0; [ -n '${4:-}' ] && exit 1; sleep 0.1; done; exit 1" 2>&1; }

# --- create ---
fid=$(img network create front)
like "doc:network-create prints the new network's id" "$fid" '^[0-9a-f]{64}$'
insp=$(img network inspect front)
is "inspect: docker's shape (Name, Id, Driver, Internal)" \
  "$(jq -r '.[0] | "\(.Name) \(.Id) \(.Driver) \(.Internal) \(.Scope)"' <<<"$insp")" "front $fid bridge false local"
is "doc:network-auto-subnet a free 10.90.N.0/24 by default" \
  "$(jq -r '.[0].IPAM.Config[0] | "\(.Subnet) \(.Gateway)"' <<<"$insp")" "10.90.0.0/24 10.90.0.1"
like "inspect: Created is RFC 3339" "$(jq -r '.[0].Created' <<<"$insp")" '^20[0-9-]{8}T[0-9:]{8}Z$'
bid=$(img network create --subnet 10.91.5.0/24 --gateway 10.91.5.254 --label team=a back)
is "doc:network-subnet --subnet and --gateway" \
  "$(img network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Labels.team}}' back)" \
  "10.91.5.0/24 10.91.5.254 a"
ok "--internal" img network create --internal sealed
is "... is recorded, with the next free subnet" \
  "$(img network inspect sealed | jq -r '.[0] | "\(.Internal) \(.IPAM.Config[0].Subnet)"')" "true 10.90.1.0/24"
like "--add-host host-gateway is the network's gateway" \
  "$(img run --rm --network back --add-host h:host-gateway busybox grep -w h /etc/hosts)" '^10\.91\.5\.254[[:space:]]+h$'
is "inspect by id prefix" "$(img network inspect -f '{{.Name}}' "${bid:0:12}")" back

# --- bad input: one line, nothing made ---
fails "doc:network-bad-input a duplicate name is refused" img network create front
like "... as docker says it" "$LAST_OUT" "^imgtool: network with name 'front' already exists$"
fails "a subnet that is not a network address is refused" img network create --subnet 10.92.0.1/24 x1
like "... saying so" "$LAST_OUT" "^imgtool: network 'x1': subnet '10\.92\.0\.1/24' is not a network address$"
fails "a subnet that does not parse is refused" img network create --subnet banana x2
like "... saying so" "$LAST_OUT" "^imgtool: network 'x2': invalid subnet 'banana'$"
fails "an overlapping subnet is refused" img network create --subnet 10.91.0.0/16 x3
like "... naming the other network" "$LAST_OUT" "^imgtool: subnet '10\.91\.0\.0/16' overlaps network 'back' \(10\.91\.5\.0/24\)$"
fails "the default network's subnet is taken too" img network create --subnet 10.89.7.0/24 x4
like "... naming it" "$LAST_OUT" "overlaps network 'bridge'"
fails "a gateway outside the subnet is refused" img network create --subnet 10.93.0.0/24 --gateway 10.94.0.1 x5
like "... saying so" "$LAST_OUT" "^imgtool: gateway '10\.94\.0\.1' is not a host address of '10\.93\.0\.0/24'$"
fails "a driver other than bridge is refused" img network create -d overlay x6
like "... saying so" "$LAST_OUT" "^imgtool: network driver 'overlay' is not supported: only bridge$"
fails "a bad name is refused" img network create 'a/b'
like "... saying so" "$LAST_OUT" "^imgtool: invalid network name 'a/b'"
fails "a predefined name is refused" img network create host
fails "the default network cannot be removed" img network rm bridge
like "... as docker says it" "$LAST_OUT" "^imgtool: bridge is a pre-defined network and cannot be removed$"
fails "an unknown option is refused" img network create --bogus x7
is "... naming the subcommand" "$LAST_OUT" "imgtool: network create: unknown option '--bogus'; see 'imgtool network create --help'"
is "none of them left a network behind" "$(img network ls -q | wc -l)" 4

# --- ls ---
ls_out=$(img network ls)
like "ls: docker's columns" "$(head -1 <<<"$ls_out")" '^NETWORK ID +NAME +DRIVER +SCOPE$'
like "ls: a row per network" "$ls_out" "${fid:0:12} +front +bridge +local"
is "doc:network-ls-filter --filter name" "$(img network ls --filter name=fro --format '{{.Name}}')" front
is "--filter label" "$(img network ls --filter label=team=a --format '{{.Name}}')" back
is "--filter id" "$(img network ls -q --filter id="${fid:0:8}")" "${fid:0:12}"
is "--filter type=custom" "$(img network ls --filter type=custom --format '{{.Name}}' | tr '\n' ' ')" "back front sealed "
is "--filter driver=bridge keeps all" "$(img network ls -q --filter driver=bridge | wc -l)" 4
is "--no-trunc" "$(img network ls --no-trunc -q --filter name=front)" "$fid"
fails "an unknown filter key is refused" img network ls --filter colour=red

# --- containers on a network find each other by name ---
a=$(img run -d --name alpha --network front busybox sh -c "$HTTPD")
like "run --network NAME starts" "$a" '^[0-9a-f]{64}$'
aip=$(img network inspect front | jq -r ".[0].Containers[\"$a\"].IPv4Address")
like "network inspect lists the container with its address" "$aip" '^10\.90\.0\.[0-9]+/24$'
aip=${aip%/24}
is "container inspect: the network by name" \
  "$(img inspect -f '{{.NetworkSettings.Networks.front.IPAddress}} {{.HostConfig.NetworkMode}}' alpha)" \
  "$aip front"
is "ps --filter network" "$(img ps --filter network=front --format '{{.Names}} {{.Networks}}')" "alpha front"
like "the network's bridge exists" "$(ip -o link show "imgbr${fid:0:10}")" "imgbr${fid:0:10}"
like "a container's eth0 is in the network's subnet" \
  "$(img run --rm --network back busybox ip addr show eth0)" 'inet 10\.91\.5\.[0-9]+/24 '
is "doc:network-names a container reaches another by name" "$(get front alpha 80)" "hi from ${a:0:12}"

# --- isolation ---
is "doc:network-isolation another network's hosts file does not name it" \
  "$(img run --rm --network back busybox grep -c alpha /etc/hosts)" 0
like "... nor does it reach it by name" "$(get back alpha 80 x)" "timed out|bad address"
like "... nor reaches the address" "$(get back "$aip" 80 x)" "timed out|unreachable|refused"
like "... nor does the default network" "$(get bridge "$aip" 80 x)" "timed out|unreachable|refused"
is "... while the same network does" "$(get front "$aip" 80)" "hi from ${a:0:12}"

# --- internal ---
is "a normal network reaches the outside" "$(get front 192.168.77.1 8077)" outside
like "doc:network-internal an internal network has no default route" \
  "$(img run --rm --network sealed busybox ip route)" '^10\.90\.1\.0/24 dev eth0'
unlike "... only its subnet" "$(img run --rm --network sealed busybox ip route)" default
like "... and does not reach the outside" "$(get sealed 192.168.77.1 8077 x)" "unreachable|timed out"
like "... nor the default network's gateway" "$(get sealed 10.89.0.1 80 x)" "unreachable|timed out|refused"
s=$(img run -d --name inside --network sealed busybox sh -c "$HTTPD")
is "... but its containers reach each other" "$(get sealed inside 80)" "hi from ${s:0:12}"

# --- rename: the network knows the new name (its hosts file, which is
# how containers on a network find each other here) ---
b=$(img run -d --name bravo --network front busybox sh -c "$HTTPD")
is "a second container is reached by name" "$(get front bravo 80)" "hi from ${b:0:12}"
ok "doc:rename-network rename of a running container" img rename bravo charlie
is "... its /etc/hosts line names it" "$(img exec charlie grep -c "[[:space:]]${b:0:12} charlie\$" /etc/hosts)" 1
unlike "... not the old name" "$(img exec charlie cat /etc/hosts)" bravo
is "... another container reaches it by the new name" "$(get front charlie 80)" "hi from ${b:0:12}"
like "... and no longer by the old one" "$(get front bravo 80 x)" "timed out|bad address"
is "... network inspect names it" \
  "$(img network inspect front | jq -r ".[0].Containers[\"$b\"].Name")" charlie

# --- connect / disconnect ---
d=$(img run -d --name delta --network back busybox sh -c "$HTTPD")
ok "doc:network-connect connect a running container to another network" \
  img network connect --alias dee front delta
like "... it has an interface there" "$(img exec delta ip -4 addr show eth1)" 'inet 10\.90\.0\.[0-9]+/24'
like "... its first network keeps the default route" "$(img exec delta ip route | grep '^default')" '^default via 10\.91\.5\.254 dev eth0 *$'
is "... containers there reach it by name" "$(get front delta 80)" "hi from ${d:0:12}"
is "... and by its alias" "$(get front dee 80)" "hi from ${d:0:12}"
is "... it reaches them" "$(img exec delta sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $aip 80 | tail -n 1")" "hi from ${a:0:12}"
like "... network inspect lists it" "$(img network inspect front | jq -r ".[0].Containers[\"$d\"].Name")" delta
is "... container inspect lists both networks, the alias too" \
  "$(img inspect delta | jq -r '.[0].NetworkSettings.Networks | "\(keys | join(" ")) \(.front.Aliases[0])"')" "back front dee"
like "... with its address there" "$(img inspect -f '{{.NetworkSettings.Networks.front.IPAddress}}' delta)" '^10\.90\.0\.[0-9]+$'
fails "doc:network-connect-errors connecting twice is refused" img network connect front delta
is "... as docker says it" "$LAST_OUT" "imgtool: endpoint with name delta already exists in network front"
ok "--ip picks the address" img network connect --ip 10.91.5.77 back charlie
like "... which the container has" "$(img exec charlie ip -4 addr show eth1)" 'inet 10\.91\.5\.77/24'
fails "an address outside the subnet is refused" img network connect --ip 10.1.1.1 sealed charlie
is "... saying so" "$LAST_OUT" "imgtool: no configured subnet contains IP address 10.1.1.1"
fails "a taken address is refused" img network connect --ip 10.91.5.77 sealed delta
fails "a missing network is refused" img network connect nowhere delta
like "... clearly" "$LAST_OUT" "network 'nowhere' not found"
img create --name echo busybox true >/dev/null
fails "a container that does not run is refused" img network connect front echo
is "... saying so" "$LAST_OUT" "imgtool: container 'echo' is not running"
fails "bad usage" img network connect front
ok "doc:network-disconnect disconnect" img network disconnect front delta
fails "... the interface is gone" img exec delta ip link show eth1
like "... the name no longer resolves there" "$(get front delta 80 x)" "timed out|bad address"
is "... its lease is gone" "$(img network inspect front | jq -r ".[0].Containers[\"$d\"]")" null
is "... container inspect no longer lists it" "$(img inspect delta | jq -r '.[0].NetworkSettings.Networks | keys | join(" ")')" "back"
is "... its first network still works" "$(get back delta 80)" "hi from ${d:0:12}"
fails "disconnecting again is refused" img network disconnect front delta
is "... as docker says it" "$LAST_OUT" "imgtool: container $d is not connected to the network front"
ok "rm of a container on two networks" img rm -f charlie
unlike "... frees its lease on both" "$(ls "$R/networks/user/back/leases" "$R/networks/user/front/leases")" '10\.91\.5\.77'
ok "the others go" img rm -f delta echo

# --- rm ---
fails "doc:network-rm-in-use rm of a network with a running container is refused" img network rm front
is "... with docker's message" "$LAST_OUT" "imgtool: error while removing network: network front id $fid has active endpoints"
ok "the container goes" img rm -f alpha
is "... and its lease in the network with it" "$(ls "$R/networks/user/front/leases")" ""
is "rm prints the name" "$(img network rm front)" front
fails "the bridge went with it" ip link show "imgbr${fid:0:10}"
fails "inspect of the removed network fails" img network inspect front
like "... clearly" "$LAST_OUT" "^imgtool: network 'front' not found$"
fails "run on a missing network fails" img run --rm --network front busybox true
like "... clearly" "$LAST_OUT" "network 'front' not found"

# --- prune ---
like "prune asks first, on stdout as docker" "$(img network prune </dev/null 2>/dev/null)" \
  "^WARNING! This will remove all custom networks not used by at least one container."
is "no answer: nothing removed" "$(img network ls -q | wc -l)" 3
is "doc:network-prune prune -f removes the unused networks" "$(img network prune -f)" "Deleted Networks:
back"
is "... keeping one in use and the default" "$(img network ls --format '{{.Name}}' | tr '\n' ' ')" "bridge sealed "
ok "the last container goes" img rm -f inside
is "... then prune takes its network" "$(img network prune -f)" "Deleted Networks:
sealed"
is "only the default network is left" "$(img network ls --format '{{.Name}}')" bridge
is "no user network directory is left" "$(ls "$R/networks/user")" ""

done_testing
