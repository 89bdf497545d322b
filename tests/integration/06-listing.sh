#!/bin/bash
# Listing as docker's: images (-a, --digests, --no-trunc, -q, REPOSITORY[:TAG],
# --filter reference/dangling/label/before/since) and ps (--filter status,
# name, id, label, ancestor, exited, health, network, volume, before, since;
# -n, -l, -s); --format json one object per line. The images come from
# umoci and skopeo (peers), not imgtool; podman, when it is installed, is
# the oracle for the columns and the filters' answers (cmd/filter.h).
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap 'kill_recorded_containers; [ -n "${PEERS_DIR:-}" ] && peers_cleanup' EXIT
mkdir -p "$R"

# layout NAME [umoci config args]: a busybox image at $T_TMP/NAME:latest
layout () { local n=$1; shift; "$TESTS_DIR/fixtures/busybox-layout.sh" "$T_TMP/$n" latest "$@" >/dev/null; }
into () { skopeo copy -q "oci:$T_TMP/$1:latest" "oci:$R/oci:$2" >/dev/null; }
layout bb
layout old --created 2020-01-01T00:00:00Z --config.label tier=old
layout mid --created 2022-01-01T00:00:00Z
layout new --created 2024-01-01T00:00:00Z --config.label tier=new --config.label extra=1
ok "four images made by umoci, copied by skopeo" \
  sh -c "$(declare -f into); R=$R T_TMP=$T_TMP; into bb docker.io/library/busybox:latest && into old docker.io/library/old:1 && into mid localhost/untagged:0123456789ab && into new docker.io/library/new:1"
ID_OLD=$(img inspect -f '{{.Id}}' old:1)
ID_NEW=$(img inspect -f '{{.Id}}' new:1)

names () { img images --format '{{.Repository}}:{{.Tag}}' "$@" | tr '\n' ' '; }

# --- images -----------------------------------------------------------------
# doc:images-columns
out=$(img images)
like "images: docker's columns" "$out" '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE'$'\n'
is "newest first (docker's order)" "$(names)" \
  "busybox:latest new:1 localhost/untagged:0123456789ab old:1 "
like "a row: the 12-digit ID, then CREATED" "$out" $'\n''old +1 +'"${ID_OLD:7:12}"' +[0-9]+ years ago +[0-9.]+[kM]?B'
# doc:images-a
# (the relative CREATED of a new image may tick between the two listings)
rows () { img images --format '{{.Repository}} {{.Tag}} {{.ID}} {{.Size}}' "$@"; }
is "-a: the same list (the store keeps no intermediate images)" "$(rows -a)" "$(rows)"
# doc:images-digests
dig=$(img images --digests)
like "--digests: DIGEST after TAG" "$dig" '^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE'$'\n'
like "... the stored document's digest" "$dig" $'\n''old +1 +sha256:[0-9a-f]{64} +'"${ID_OLD:7:12}"
# doc:images-no-trunc
like "--no-trunc: the whole ID" "$(img images --no-trunc)" $'\n''old +1 +'"$ID_OLD"' '
is "-q: the short IDs" "$(img images -q old)" "${ID_OLD:7:12}"
is "-q --no-trunc: the whole IDs" "$(img images -q --no-trunc old)" "$ID_OLD"
# doc:images-repo-tag
is "images REPOSITORY: that repository's names" "$(names old)" "old:1 "
is "images REPOSITORY:TAG" "$(names busybox:latest)" "busybox:latest "
is "images REPOSITORY:TAG of another tag: none" "$(names busybox:nope)" ""
is "a glob, as docker's reference match" "$(names 'ne*')" "new:1 "
fails "two arguments: usage" img images old new
# doc:images-filter
is "--filter reference" "$(names -f reference=old)" "old:1 "
is "the same key twice: either" "$(names -f reference=old -f reference=new)" "new:1 old:1 "
is "different keys: both" "$(names -f reference=old -f label=tier=new)" ""
is "dangling=true: the image left without a name" "$(names -f dangling=true)" "localhost/untagged:0123456789ab "
is "dangling=false: the named ones" "$(names -f dangling=false)" "busybox:latest new:1 old:1 "
is "label=KEY" "$(names -f label=tier)" "new:1 old:1 "
is "label=KEY=VALUE" "$(names -f label=tier=old)" "old:1 "
is "two labels must both be there" "$(names -f label=tier -f label=extra=1)" "new:1 "
is "before=IMAGE: created before it" "$(names -f before=new:1)" "localhost/untagged:0123456789ab old:1 "
is "since=IMAGE (by ID)" "$(names -f since="${ID_OLD:7:12}")" "busybox:latest new:1 localhost/untagged:0123456789ab "
err=$(img images -f dangling=maybe 2>&1); st=$?
is "a bad value: one line, exit 1" "$st $err" "1 imgtool: invalid filter 'dangling=maybe'"
is "an unknown filter" "$(img images -f color=red 2>&1)" "imgtool: invalid filter 'color'"
is "a filter without =" "$(img images -f old 2>&1)" "imgtool: bad format of filter 'old' (expected name=value)"
like "before= an image that is not there" "$(img images -f before=nosuch 2>&1)" "no such image: 'nosuch'"
# doc:images-format-json
json=$(img images --format json -f label=tier)
is "--format json: one object per line" "$(jq -c 'type' <<<"$json" | tr '\n' ' ')" '"object" "object" '
is "... filtered as the table" "$(jq -r '.Repository' <<<"$json" | tr '\n' ' ')" "new old "

# --- ps -----------------------------------------------------------------------
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" docker.io/library/busybox:latest >/dev/null 2>&1
mkdir -p "$T_TMP/ctx"; echo child > "$T_TMP/ctx/f"
printf 'FROM busybox\nCOPY f /f\n' > "$T_TMP/ctx/Buildfile"
ok "an image built on busybox" img build -q -t child -f "$T_TMP/ctx/Buildfile" "$T_TMP/ctx"
c1=$(img run -d --network none --name c1 -v "$T_TMP/ctx:/data" busybox sh -c 'printf 12345 > /w; exec sleep 1000')
img run --network none --name c2 busybox sh -c 'exit 3'
c3=$(img run -d --name c3 child sleep 1000)
pnames () { img ps --format '{{.Names}}' "$@" | tr '\n' ' '; }
is "ps: the running ones, newest first" "$(pnames)" "c3 c1 "
# doc:ps-last
is "-l: the last created, in any state" "$(img ps -l -q)" "${c3:0:12}"
is "-n 2: the last two, stopped ones too" "$(pnames -n 2)" "c3 c2 "
fails "-n needs a number" img ps -n x
# doc:ps-filter
is "status=exited looks at every container" "$(pnames -f status=exited)" "c2 "
is "status=running" "$(pnames -a -f status=running)" "c3 c1 "
is "exited=3" "$(pnames -a -f exited=3)" "c2 "
is "exited=0: none" "$(pnames -a -f exited=0)" ""
is "name (a regular expression, as docker's)" "$(pnames -a -f 'name=^c[13]$')" "c3 c1 "
is "name with docker's leading /" "$(pnames -a -f name=/c2)" "c2 "
is "the same key twice: either" "$(pnames -a -f name=c1 -f name=c2)" "c2 c1 "
is "different keys: both" "$(pnames -a -f name=c1 -f status=exited)" ""
is "id (a prefix)" "$(pnames -a -f id="${c1:0:8}")" "c1 "
is "ancestor=IMAGE: made from it" "$(pnames -a -f ancestor=child)" "c3 "
is "ancestor=IMAGE: or from an image built on it" "$(pnames -a -f ancestor=busybox)" "c3 c2 c1 "
is "ancestor=an image that is not there: none" "$(pnames -a -f ancestor=nosuch)" ""
is "network=none" "$(pnames -a -f network=none)" "c2 c1 "
is "network=bridge" "$(pnames -a -f network=bridge)" "c3 "
is "volume=DESTINATION" "$(pnames -a -f volume=/data)" "c1 "
is "volume=SOURCE" "$(pnames -a -f volume="$T_TMP/ctx")" "c1 "
is "health=none: no healthcheck" "$(pnames -a -f health=none)" "c3 c2 c1 "
is "health=healthy: none here" "$(pnames -a -f health=healthy)" ""
is "label: none here" "$(pnames -a -f label=tier)" ""
is "before=CONTAINER" "$(pnames -a -f before=c3)" "c2 c1 "
is "since=CONTAINER" "$(pnames -a -f since=c1)" "c3 c2 "
is "a bad status: one line, exit 1" "$(img ps -f status=sleeping 2>&1; echo $?)" "imgtool: invalid filter 'status=sleeping'"$'\n'1
is "a bad exit code" "$(img ps -f exited=x 2>&1)" "imgtool: invalid filter 'exited=x'"
is "a bad health" "$(img ps -f health=ok 2>&1)" "imgtool: unrecognised filter value for health: ok"
is "an unknown filter" "$(img ps -f is-task=true 2>&1)" "imgtool: invalid filter 'is-task'"
# doc:ps-size
out=$(img ps -s -f name=c1)
like "-s: a SIZE column" "$out" '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES +SIZE'$'\n'
like "... the writable layer, and with the image" "$out" ' c1 +5B \(virtual [0-9.]+[kM]B\)$'
like "a template that shows .Size counts it" "$(img ps --format '{{.Size}}' -f name=c1)" '^5B \(virtual '
is "without -s: 0B" "$(img ps --format json -f name=c1 | jq -r .Size)" 0B
# doc:ps-format-json
json=$(img ps -a --format json)
is "ps --format json: one object per line" "$(jq -c 'type' <<<"$json" | tr '\n' ' ')" '"object" "object" "object" '
is "... docker's names and states" "$(jq -r '"\(.Names) \(.State)"' <<<"$json" | tr '\n' ' ')" "c3 running c2 exited c1 running "

# --- podman as the oracle ------------------------------------------------------
if ! command -v podman >/dev/null || [ "$(id -u)" != 0 ]; then
  skip "podman not installed"; done_testing; exit
fi
. "$TESTS_DIR/peers/env.sh"
peers_env "$T_TMP/peers" >/dev/null
for x in "bb docker.io/library/busybox:latest" "old docker.io/library/old:1" "new docker.io/library/new:1"; do
  set -- $x; peers_podman_load "$T_TMP/$1" latest "$2"
done
# One session (podman's state is in the namespace's private /run): the
# same containers as above, then the same listings.
cat > "$T_TMP/podman.sh" <<'PEOF'
p () { podman "$@"; }
run () { podman run --cgroup-parent "/$PEERS_CGROUP" --network none "$@"; }
run -d --name c1 -v "$T_TMP/ctx:/data" busybox sleep 1000 >/dev/null
run --name c2 busybox sh -c 'exit 3'
run -d --name c3 new:1 sleep 1000 >/dev/null
echo "== images"; p images
for f in reference=old label=tier label=tier=old before=docker.io/library/new:1 since=docker.io/library/old:1; do
  echo "== images $f"; p images --format '{{.Repository}}:{{.Tag}}' -f "$f"
done
echo "== ps"; p ps -a
for f in status=exited exited=3 name=c1 'name=^c[13]$'; do
  echo "== ps $f"; p ps -a --format '{{.Names}}' -f "$f"
done
echo "== ps -l"; p ps -l --format '{{.Names}}'
echo "== ps -n 2"; p ps -n 2 --format '{{.Names}}'
p rm -f c1 c2 c3 >/dev/null
PEOF
peers_ns env -u REGISTRY_AUTH_FILE -u DOCKER_CONFIG T_TMP="$T_TMP" bash "$T_TMP/podman.sh" > "$T_TMP/podman.out" 2>"$T_TMP/podman.err"
ok "podman listed them" grep -q '^== ps -n 2' "$T_TMP/podman.out"
[ -s "$T_TMP/podman.err" ] && sed 's/^/# podman: /' "$T_TMP/podman.err"
# section NAME: podman's lines under "== NAME", docker.io/library/ dropped
section () { awk -v s="== $1" '$0 == s { on = 1; next } /^== / { on = 0 } on' "$T_TMP/podman.out" | sed 's#docker\.io/library/##g'; }
# cols: a table's columns split on runs of 2+ spaces, one per line
cols () { sed -n "${2}p" <<<"$1" | sed -E 's/ {2,}/\n/g'; }
pimg=$(section images)
is "images: podman's header, column by column" "$(cols "$(img images)" 1)" "$(cols "$pimg" 1)"
for r in old new; do
  prow=$(grep "^$r " <<<"$pimg"); irow=$(img images | grep "^$r ")
  for c in 1 2 3 4; do
    is "images: $r's column $c as podman's" "$(sed -E 's/ {2,}/\n/g' <<<"$irow" | sed -n "${c}p")" \
      "$(sed -E 's/ {2,}/\n/g' <<<"$prow" | sed -n "${c}p")"
  done
done
for f in reference=old label=tier label=tier=old before=new:1 since=old:1; do
  pf=$f; [ "$f" = before=new:1 ] && pf=before=docker.io/library/new:1
  [ "$f" = since=old:1 ] && pf=since=docker.io/library/old:1
  is "images -f $f as podman's" "$(names -f "$f" | tr ' ' '\n' | grep -Ev 'untagged|child' | grep . | sort)" \
    "$(section "images $pf" | sort)"
done
pps=$(section ps)
is "ps: podman's header, column by column" "$(cols "$(img ps -a)" 1)" "$(cols "$pps" 1)"
# the same containers (podman lists them oldest first; docker and imgtool
# newest first); podman's volume filter knows only named volumes
set_of () { tr ' ' '\n' | grep . | sort | tr '\n' ' '; }
for f in status=exited exited=3 name=c1 'name=^c[13]$'; do
  is "ps -f $f as podman's" "$(pnames -a -f "$f" | set_of)" "$(section "ps $f" | set_of)"
done
is "ps -l as podman's" "$(pnames -l)" "$(section "ps -l" | set_of)"
is "ps -n 2 as podman's" "$(pnames -n 2 | set_of)" "$(section "ps -n 2" | set_of)"
done_testing
