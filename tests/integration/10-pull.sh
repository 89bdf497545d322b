#!/bin/bash
# pull, login, logout against the lab's real registries (plain HTTP, HTTPS +
# Basic, HTTPS + token), with skopeo as the oracle and the fault proxy for
# retries, corruption, truncation, stalls and resume.
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_HTTP:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
F=$LAB_FAULTCTL
BB=library/busybox
conf () { echo "$1" > "$IMGTOOL_CONFIG"; }
insecure="\"insecure-registries\": [\"$LAB_HTTP\", \"$LAB_FAULT\"]"
conf "{$insecure, \"http-timeout\": 3, \"http-retries\": 3}"
blobs () { ls "$IMGTOOL_ROOT/oci/blobs/sha256" 2>/dev/null | sort; }
ref_digest () { jq -r --arg n "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | .digest' "$IMGTOOL_ROOT/oci/index.json" 2>/dev/null; }
fresh () { rm -rf "$IMGTOOL_ROOT"; }
stderr_of () { "$IMGTOOL" "$@" 2>&1 >/dev/null; }

# --- plain HTTP, compared with skopeo ----------------------------------------
out=$(img pull "$LAB_HTTP/$BB" 2>&1); rc=$?
is "pull busybox over plain HTTP" "$rc" 0
like "prints the index digest" "$out" "Digest: $LAB_DIGEST_BUSYBOX"
like "says it downloaded" "$out" "Status: Downloaded newer image for $LAB_HTTP/$BB:latest"
is "ref points at the index" "$(ref_digest "$LAB_HTTP/$BB:latest")" "$LAB_DIGEST_BUSYBOX"
skopeo copy -q --src-tls-verify=false "docker://$LAB_HTTP/$BB" "oci:$T_TMP/sk:bb" >/dev/null 2>&1
sk_manifest=$(jq -r '.manifests[0].digest' "$T_TMP/sk/index.json")
is "skopeo chose the amd64 manifest" "$sk_manifest" "$LAB_DIGEST_BUSYBOX_AMD64"
missing=$(comm -23 <(ls "$T_TMP/sk/blobs/sha256" | sort) <(blobs))
is "every blob skopeo fetched is in imgtool's store" "$missing" ""
got=$(skopeo inspect --format '{{.Digest}}' "oci:$IMGTOOL_ROOT/oci:$LAB_HTTP/$BB:latest" 2>&1)
is "skopeo reads imgtool's store (same index)" "$got" "$LAB_DIGEST_BUSYBOX"
got=$(skopeo inspect --raw "oci:$IMGTOOL_ROOT/oci:$LAB_HTTP/$BB:latest" 2>/dev/null | sha256sum | cut -c1-64)
is "the stored index is byte-identical" "sha256:$got" "$LAB_DIGEST_BUSYBOX"
is "no partial files left" "$(ls "$IMGTOOL_ROOT/tmp")" ""
out=$(img pull "$LAB_HTTP/$BB" 2>&1)
like "second pull is up to date" "$out" "Image is up to date for $LAB_HTTP/$BB:latest"
like "-q prints only the name" "$(img pull -q "$LAB_HTTP/$BB")" "^$LAB_HTTP/$BB:latest$"

# --- token mode: platform, anonymous denied, login ---------------------------
fresh
ok "pull --platform linux/arm64 (token, anonymous)" img pull -q --platform linux/arm64 "$LAB_TOKEN/$BB"
[ -f "$IMGTOOL_ROOT/oci/blobs/sha256/${LAB_DIGEST_BUSYBOX_ARM64#sha256:}" ]; is "arm64 manifest stored" $? 0
[ -f "$IMGTOOL_ROOT/oci/blobs/sha256/${LAB_DIGEST_BUSYBOX_AMD64#sha256:}" ]; is "amd64 manifest not fetched" $? 1
fails "a platform not in the index" img pull --platform linux/s390x "$LAB_TOKEN/$BB"
like "the error lists the platforms" "$LAST_OUT" "linux/s390x.*available: linux/amd64, linux/arm64"
fails "anonymous pull of a private repo" img pull "$LAB_TOKEN/private/app"
like "denied in one line" "$(stderr_of pull "$LAB_TOKEN/private/app")" "^imgtool: pull '$LAB_TOKEN/private/app:latest': .*401 unauthorized"
is "no ref for the denied pull" "$(ref_digest "$LAB_TOKEN/private/app:latest")" ""
fails "login with a wrong password" sh -c "echo wrong | '$IMGTOOL' login -u '$LAB_USER' --password-stdin '$LAB_TOKEN'"
like "login failed ... unauthorized" "$LAST_OUT" "login failed: .*unauthorized"
[ -e "$DOCKER_CONFIG/config.json" ]; is "nothing written after a failed login" $? 1
ok "login" sh -c "echo '$LAB_PASS' | '$IMGTOOL' login -u '$LAB_USER' --password-stdin '$LAB_TOKEN'"
is "config.json is mode 0600" "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600
is "credentials under the registry's key" "$(jq -r --arg k "$LAB_TOKEN" '.auths[$k].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" "$LAB_USER:$LAB_PASS"
out=$(img pull "$LAB_TOKEN/private/app" 2>&1)
like "pull private/app after login" "$out" "Digest: $LAB_DIGEST_APP"
ok "pull by digest" img pull -q "$LAB_TOKEN/$BB@$LAB_DIGEST_BUSYBOX_AMD64"
is "digest ref stored" "$(ref_digest "$LAB_TOKEN/$BB@$LAB_DIGEST_BUSYBOX_AMD64")" "$LAB_DIGEST_BUSYBOX_AMD64"
ok "logout" img logout "$LAB_TOKEN"
fails "logout twice" img logout "$LAB_TOKEN"
fresh
fails "private pull after logout" img pull -q "$LAB_TOKEN/private/app:latest@$LAB_DIGEST_APP"

# --- Basic mode and TLS ------------------------------------------------------
fails "basic registry without credentials" img pull "$LAB_BASIC/$BB"
like "says a login is needed" "$LAST_OUT" "requires a login"
fails "basic login with a wrong password" sh -c "echo nope | '$IMGTOOL' login -u '$LAB_USER' --password-stdin '$LAB_BASIC'"
like "basic wrong password: unauthorized" "$LAST_OUT" "login failed: .*unauthorized"
ok "basic login" sh -c "echo '$LAB_PASS' | '$IMGTOOL' login -u '$LAB_USER' --password-stdin '$LAB_BASIC'"
ok "pull over HTTPS + Basic" img pull -q "$LAB_BASIC/$BB"
mkdir -p "$T_TMP/nocerts"
fails "TLS with an unknown CA" img pull --cert-dir "$T_TMP/nocerts" "$LAB_BASIC/$BB"
like "TLS error names host and reason" "$LAST_OUT" "tls: certificate verify failed for $LAB_BASIC: "
ok "--tls-verify=false accepts it" img pull -q --tls-verify=false --cert-dir "$T_TMP/nocerts" "$LAB_TOKEN/$BB"
conf '{}'
fails "a plain-HTTP registry not marked insecure" img pull "$LAB_HTTP/$BB"
like "the error is the TLS handshake" "$LAST_OUT" "tls: handshake with $LAB_HTTP failed"
conf "{$insecure, \"http-timeout\": 3}"

# --- mirrors -------------------------------------------------------------------
fresh
conf "{$insecure, \"registry-mirrors\": {\"docker.io\": [\"http://127.0.0.1:9\", \"http://$LAB_HTTP\"]}}"
out=$(img pull busybox 2>&1)
like "docker.io served by the second mirror" "$out" "Digest: $LAB_DIGEST_BUSYBOX"
is "stored under docker.io's name" "$(ref_digest docker.io/library/busybox:latest)" "$LAB_DIGEST_BUSYBOX"
fresh
conf "{$insecure, \"registry-mirrors\": [\"http://127.0.0.1:9\", \"http://$LAB_HTTP\"]}"
out=$(img pull busybox 2>&1)
like "doc:mirrors-list daemon.json's list of docker.io mirrors" "$out" "Digest: $LAB_DIGEST_BUSYBOX"
conf "{$insecure, \"registry-mirrors\": {\"docker.io\": [\"http://$LAB_HTTP\"]}}"
fails "doc:mirror-answer a mistyped name behind a mirror" img pull busyboks
like "the error is the mirror's answer" "$LAST_OUT" "mirror http://$LAB_HTTP: "
unlike "not the unreachable registry's" "$LAST_OUT" "resolve registry-1.docker.io"
conf "{$insecure, \"registry-mirrors\": \"http://$LAB_HTTP\"}"
fails "registry-mirrors as a string" img pull busybox
like "one line naming the key" "$LAST_OUT" "registry-mirrors must be a list"
conf "{$insecure, \"registry-mirrors\": {\"$LAB_HTTP\": [\"http://127.0.0.1:9\"]}}"
ok "a mirror that is down falls back to the registry" img pull -q "$LAB_HTTP/library/layered"
conf "{$insecure, \"http-timeout\": 3, \"http-retries\": 3}"

# --- faults through the proxy --------------------------------------------------
layer=${LAB_DIGEST_BUSYBOX_LAYER#sha256:}
fresh; $F reset
$F add status code=503 path=/manifests/ count=2 >/dev/null
ok "503 twice, then ok" img pull -q "$LAB_FAULT/$BB"
is "the manifest was asked three times" "$($F count '/manifests/latest' GET)" 3
fresh; $F reset
$F add corrupt path="/blobs/sha256:$layer" count=1 >/dev/null
fails "a corrupted blob" img pull -q "$LAB_FAULT/$BB"
like "digest mismatch in one line" "$LAST_OUT" "^imgtool: pull '$LAB_FAULT/$BB:latest': fetch blob sha256:${layer:0:12}: digest mismatch"
is "no ref after a corrupted blob" "$(ref_digest "$LAB_FAULT/$BB:latest")" ""
[ -e "$IMGTOOL_ROOT/oci/blobs/sha256/$layer" ] || [ -e "$IMGTOOL_ROOT/tmp/$layer.partial" ]; is "nothing of the corrupt blob kept" $? 1
fresh; $F reset
$F add truncate path="/blobs/sha256:$layer" >/dev/null
fails "a truncated body" img pull -q "$LAB_FAULT/$BB"
like "truncated in one line" "$LAST_OUT" "truncated body: got [0-9]+ of [0-9]+ bytes"
[ -e "$IMGTOOL_ROOT/oci/blobs/sha256/$layer" ]; is "no blob of the truncated body" $? 1
fresh; $F reset
$F add corrupt offset=0 path=/manifests/latest count=1 >/dev/null
fails "a malformed manifest" img pull -q "$LAB_FAULT/$BB"
like "malformed manifest error" "$LAST_OUT" "manifest"
# a manifest fetched by digest is checked against it (the bytes, not only
# whether they parse)
fresh; $F reset
$F add corrupt path="/manifests/$LAB_DIGEST_BUSYBOX_AMD64" count=1 >/dev/null
fails "a corrupted manifest fetched by digest" img pull -q "$LAB_FAULT/$BB"
like "... is a manifest digest mismatch" "$LAST_OUT" "manifest digest mismatch: expected $LAB_DIGEST_BUSYBOX_AMD64"
fresh; $F reset
$F add cut bytes=200000 path="/blobs/sha256:$layer" count=1 >/dev/null
ok "a broken connection resumes" img pull -q "$LAB_FAULT/$BB"
like "resumed with Range" "$($F requests)" "\"range\": *\"bytes=200000-\""
fresh; $F reset
$F add hang path=/manifests/ seconds=60 >/dev/null
conf "{$insecure, \"http-timeout\": 2, \"http-retries\": 1}"
fails "a registry that stops answering" img pull -q "$LAB_FAULT/$BB"
like "timeout in one line" "$LAST_OUT" "$LAB_FAULT stopped answering"
fresh; $F reset
# A trickle passes any "nothing arrived" test: the rate floor stops it, and
# its bytes do not renew the retries. timeout(1) only ends a pull that hangs.
$F add slow rate=4 path="/blobs/sha256:$layer" >/dev/null
conf "{$insecure, \"http-timeout\": 5, \"http-retries\": 2, \"min-transfer-rate\": 1000, \"min-transfer-window\": 2}"
out=$(timeout 120 "$IMGTOOL" pull -q "$LAB_FAULT/$BB" 2>&1 >/dev/null); rc=$?
is "a registry sending 4 B/s: exit status 1" "$rc" 1
like "the message names the rate and the floor" "$out" "^imgtool: pull '$LAB_FAULT/$BB:latest': fetch blob sha256:${layer:0:12}: $LAB_FAULT: transfer too slow: [0-9] B/s over the last 2 s, below min-transfer-rate 1000 B/s$"
# (the proxy logs a request when it has ended it: after the client left)
for _ in $(seq 50); do [ "$($F count "/blobs/sha256:$layer" GET)" -ge 3 ] && break; sleep 0.1; done
is "asked once, then retried http-retries times" "$($F count "/blobs/sha256:$layer" GET)" 3
is "no ref after the slow blob" "$(ref_digest "$LAB_FAULT/$BB:latest")" ""
fails "a bad min-transfer-window" sh -c "echo '{\"min-transfer-window\": 0}' > '$IMGTOOL_CONFIG'; '$IMGTOOL' pull -q '$LAB_FAULT/$BB'"
like "... names the key and its range" "$LAST_OUT" "min-transfer-window must be 1..3600 seconds"
$F reset
conf "{$insecure, \"http-timeout\": 5, \"http-retries\": 3}"

# --- kill -9 halfway, then resume ---------------------------------------------
fresh
$F add slow rate=100000 path="/blobs/sha256:$layer" count=1 >/dev/null
"$IMGTOOL" pull -q "$LAB_FAULT/$BB" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
  s=$(stat -c %s "$IMGTOOL_ROOT/tmp/$layer.partial" 2>/dev/null || echo 0)
  [ "$s" -gt 150000 ] && break
  sleep 0.1
done
kill -9 $pid; wait $pid 2>/dev/null
have=$(stat -c %s "$IMGTOOL_ROOT/tmp/$layer.partial" 2>/dev/null || echo 0)
[ "$have" -gt 0 ]; is "the partial file survives kill -9" $? 0
ok "rerun after kill" img pull -q "$LAB_FAULT/$BB"
like "rerun asked only for the missing bytes" "$($F requests)" "\"range\": *\"bytes=$have-\""
is "blob complete after resume" "$(sha256sum "$IMGTOOL_ROOT/oci/blobs/sha256/$layer" | cut -c1-64)" "$layer"
$F reset

# --- eight pulls at once -------------------------------------------------------
fresh
pids=()
for i in 1 2 3 4 5 6 7 8; do
  "$IMGTOOL" pull -q "$LAB_HTTP/library/layered" > "$T_TMP/p$i.out" 2>&1 & pids+=($!)
done
fails_n=0
for p in "${pids[@]}"; do wait "$p" || fails_n=$((fails_n + 1)); done
is "eight concurrent pulls all succeed" "$fails_n" 0
is "one ref entry" "$(jq '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "'"$LAB_HTTP"'/library/layered:latest")] | length' "$IMGTOOL_ROOT/oci/index.json")" 1
bad=0
for b in $(blobs); do
  [ "$(sha256sum "$IMGTOOL_ROOT/oci/blobs/sha256/$b" | cut -c1-64)" = "$b" ] || bad=$((bad + 1))
done
is "every blob is good" "$bad" 0
got=$(skopeo inspect --format '{{.Digest}}' "oci:$IMGTOOL_ROOT/oci:$LAB_HTTP/library/layered:latest" 2>&1)
is "skopeo reads the result" "$got" "$LAB_DIGEST_LAYERED"

# --- skopeo reads the store, except Docker schema 2 names ------------------------
# The documented exception (README.md, docs/architecture.md): skopeo's oci:
# transport skips index entries that are not OCI; imgtool keeps the bytes
# (and so the digest) the registry served.
fresh
L=$LAB_HTTP/library/layered
ok "pull an OCI image" img pull -q "$L:latest"
ok "pull a Docker schema 2 image" img pull -q "$L:v2s2"
is "the v2s2 name keeps the digest the registry served" "$(ref_digest "$L:v2s2")" "$LAB_DIGEST_LAYERED_V2S2"
is "... as a Docker schema 2 entry" "$(jq -r --arg d "$LAB_DIGEST_LAYERED_V2S2" '.manifests[] | select(.digest == $d) | .mediaType' "$IMGTOOL_ROOT/oci/index.json")" application/vnd.docker.distribution.manifest.v2+json
got=$(skopeo inspect --format '{{.Digest}}' "oci:$IMGTOOL_ROOT/oci:$L:latest" 2>&1)
is "skopeo reads the OCI name next to it" "$got" "$LAB_DIGEST_LAYERED"
fails "skopeo does not read the v2s2 name" skopeo inspect "oci:$IMGTOOL_ROOT/oci:$L:v2s2"
like "... for the documented reason" "$LAST_OUT" "no descriptor found for reference"
for doc in README.md docs/architecture.md; do
  like "$doc names the exception and skopeo's answer" "$(tr '\n' ' ' < "$TESTS_DIR/../$doc")" 'application/vnd\.docker\.distribution\.manifest\.v2\+json.*no descriptor found for reference'
done
ok "imgtool push passes the v2s2 image on" img push -q "$L:v2s2" "$LAB_HTTP/lab-check/v2s2-$$:1"
got=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$LAB_HTTP/lab-check/v2s2-$$:1" 2>&1)
is "... its digest unchanged" "$got" "$LAB_DIGEST_LAYERED_V2S2"

# --- a token realm over plain http ---------------------------------------------
# An https registry whose 401 names an http realm: the password would cross
# the network in the clear. tests/helpers/http-realm.py is both, and logs
# every request the http realm gets.
conf '{}'
/usr/bin/python3 "$TESTS_DIR/helpers/http-realm.py" "$LAB_RUN/tls/server.crt" \
  "$LAB_RUN/tls/server.key" "$T_TMP/realm.ports" "$T_TMP/realm.log" &
realm_pid=$!
for _ in $(seq 100); do [ -s "$T_TMP/realm.ports" ] && break; sleep 0.1; done
read -r rs_port rh_port < "$T_TMP/realm.ports"
RS=127.0.0.1:$rs_port
realm="http://127.0.0.1:$rh_port/token"
mkdir -p "$DOCKER_CONFIG"
echo "{\"auths\": {\"$RS\": {\"auth\": \"$(printf 'tester:secret' | base64)\"}}}" > "$DOCKER_CONFIG/config.json"
: > "$T_TMP/realm.log"
fails "an https registry naming a plain-http token realm" img pull --cert-dir "$LAB_CERTS_DIR" "$RS/library/x"
like "refused in one line naming the realm" "$(stderr_of pull --cert-dir "$LAB_CERTS_DIR" "$RS/library/x")" "^imgtool: pull '$RS/library/x:latest': token realm '$realm' is plain http: refusing to send credentials \(the registry is https\)$"
is "the plain-http realm got no request" "$(cat "$T_TMP/realm.log")" ""
fails "login to it is refused too" sh -c "echo secret | '$IMGTOOL' login --cert-dir '$LAB_CERTS_DIR' -u tester --password-stdin '$RS'"
like "... naming the realm" "$LAST_OUT" "token realm '$realm' is plain http"
is "... and the realm still got nothing" "$(cat "$T_TMP/realm.log")" ""
fails "with --tls-verify=false the registry is insecure" img pull --tls-verify=false "$RS/library/x"
like "... and the realm is asked, as the user allowed" "$(cat "$T_TMP/realm.log")" "^GET /token.* authorization=yes"
kill "$realm_pid"; wait "$realm_pid" 2>/dev/null
rm -f "$DOCKER_CONFIG/config.json"
conf "{$insecure, \"http-timeout\": 3, \"http-retries\": 3}"

# --- pull -a: every tag of a repository (docker's --all-tags) ----------------
AT=lab-check/alltags-$$
for t in a1 b2 c3 d4 e5; do
  skopeo copy -q --dest-tls-verify=false "oci:$LAB_FIXTURES/busybox:amd64" \
    "docker://$LAB_HTTP/$AT:$t" >/dev/null 2>&1
done
tags_in_store () { img images --format '{{.Tag}}' | sort | tr '\n' ' '; }
fresh
out=$(img pull -a "$LAB_HTTP/$AT" 2>&1); rc=$?
is "pull -a pulls every tag of the repository" "$rc" 0
is "the store has the five tags" "$(tags_in_store)" "a1 b2 c3 d4 e5 "
like "docker's last lines: the repository" "$out" \
  "Status: Downloaded newer image for $LAB_HTTP/$AT"$'\n'"$LAB_HTTP/$AT\$"
like "--all-tags is its long form" "$(img pull -q --all-tags "$LAB_HTTP/$AT")" "^$LAB_HTTP/$AT\$"
fails "a tag with -a is refused" img pull -a "$LAB_HTTP/$AT:a1"
is "as docker says" "$LAST_OUT" "imgtool: tag can't be used with --all-tags/-a"
fails "a digest with -a too" img pull -a "$LAB_HTTP/$BB@$LAB_DIGEST_BUSYBOX"
fresh
ok "--all-platforms keeps its meaning" img pull --all-platforms "$LAB_HTTP/$BB"
is "every platform's manifest is stored" \
  "$(blobs | grep -c -e "${LAB_DIGEST_BUSYBOX_AMD64#sha256:}" -e "${LAB_DIGEST_BUSYBOX_ARM64#sha256:}")" 2
is "and only the latest tag" "$(tags_in_store)" "latest "
# A registry that pages its tag list (Link: <...>; rel="next"), two a page.
"$TESTS_DIR/helpers/tags-pager.py" "http://$LAB_HTTP" 2 > "$T_TMP/pager.log" &
pager=$!
for _ in $(seq 100); do [ -s "$T_TMP/pager.log" ] && break; sleep 0.1; done
port=$(head -1 "$T_TMP/pager.log")
fresh
ok "pull -a from a registry that pages its tag list" \
  img pull -a --tls-verify=false "127.0.0.1:$port/$AT"
is "every page was asked for, following Link" "$(grep -c '^tags' "$T_TMP/pager.log")" 3
is "all five tags" "$(tags_in_store)" "a1 b2 c3 d4 e5 "
kill "$pager"; wait "$pager" 2>/dev/null

# --- bad references ------------------------------------------------------------
fails "an invalid reference" img pull "UPPER/Case"
like "one line naming it" "$LAST_OUT" "^imgtool: .*UPPER/Case"
is "only one line" "$(echo "$LAST_OUT" | wc -l)" 1
fails "a bad digest" img pull "$LAB_HTTP/$BB@sha256:abc"
fails "no such repository" img pull "$LAB_HTTP/library/nope"
like "not found" "$LAST_OUT" "not found"
fails "no such tag" img pull "$LAB_HTTP/$BB:nope"
like "tag not found in one line" "$(stderr_of pull "$LAB_HTTP/$BB:nope")" "^imgtool: pull .*manifest 'nope' not found"

done_testing
