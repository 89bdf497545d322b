#!/bin/bash
# The test lab itself, checked with skopeo and curl only (no imgtool): the
# three registries, the token server's policy and protocol variants, the
# fixtures, and every fault-proxy mode.
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_HTTP:-}" ]; then
  ok "the lab's env is loaded (run tests/lab/up, or tests/run.sh)" false
  done_testing; exit
fi
sk () { skopeo --policy "$LAB_POLICY" --command-timeout 60s "$@"; }
code () { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
sha () { sha256sum | cut -d' ' -f1; }
jwt_claims () { # token -> its JSON claims (the lab may look inside; imgtool must not)
  local p; p=$(echo "$1" | cut -d. -f2 | tr '_-' '/+')
  while [ $(( ${#p} % 4 )) -ne 0 ]; do p+="="; done
  echo "$p" | base64 -d 2>/dev/null
}
TLS=(--cacert "$LAB_CA")
U="$LAB_USER:$LAB_PASS"
R="$LAB_READER:$LAB_READER_PASS"
FCTL=$LAB_FAULTCTL
TCTL=$LAB_TOKENCTL
uniq=$$-$RANDOM

# ---- the registries answer ------------------------------------------------
is "plain HTTP registry serves /v2/" "$(code "http://$LAB_HTTP/v2/")" 200
is "basic registry wants credentials" "$(code "${TLS[@]}" "https://$LAB_BASIC/v2/")" 401
is "basic registry accepts tester" "$(code "${TLS[@]}" -u "$U" "https://$LAB_BASIC/v2/")" 200
is "basic registry refuses a wrong password" "$(code "${TLS[@]}" -u "$LAB_USER:wrong" "https://$LAB_BASIC/v2/")" 401
is "basic registry's certificate is valid for localhost too" \
  "$(code "${TLS[@]}" -u "$U" "https://localhost:${LAB_BASIC#*:}/v2/")" 200
fails "basic registry is not trusted without the lab CA" curl -sf --max-time 5 "https://$LAB_BASIC/v2/"
is "token registry challenges" "$(code "${TLS[@]}" "https://$LAB_TOKEN/v2/")" 401
hdr=$(curl -s -D - -o /dev/null "${TLS[@]}" "https://$LAB_TOKEN/v2/" | tr -d '\r' | grep -i '^www-authenticate:')
like "token registry's challenge names the realm and service" "$hdr" \
  "Bearer realm=\"$LAB_TOKEN_REALM\",service=\"$LAB_TOKEN_SERVICE\""
is "token server answers over HTTPS with the lab CA" "$(code "${TLS[@]}" "$LAB_TOKEN_SERVER/_lab/health")" 200
for p in "${LAB_BASIC#*:}" "${LAB_TOKEN#*:}" "${LAB_TOKEN_SERVER##*:}"; do
  ok "CA installed in /etc/docker/certs.d/127.0.0.1:$p" cmp "$LAB_CA" "/etc/docker/certs.d/127.0.0.1:$p/ca.crt"
done
ok "LAB_CERTS_DIR holds the CA" cmp "$LAB_CA" "$LAB_CERTS_DIR/ca.crt"

# ---- the fixtures ---------------------------------------------------------
ok "busybox fixture is an OCI layout" test -f "$LAB_FIXTURES/busybox/oci-layout"
idx=$(cat "$LAB_FIXTURES/busybox/blobs/sha256/${LAB_DIGEST_BUSYBOX#sha256:}" 2>/dev/null)
is "busybox index lists amd64 and arm64" \
  "$(echo "$idx" | jq -r '[.manifests[].platform.architecture] | join(",")')" "amd64,arm64"
is "busybox index blob matches its digest" "$(echo -n "$idx" | sha)" "${LAB_DIGEST_BUSYBOX#sha256:}"
arm_layer=$(jq -r '.layers[0].digest' "$LAB_FIXTURES/busybox/blobs/sha256/${LAB_DIGEST_BUSYBOX_ARM64#sha256:}")
machine=$(tar -xzOf "$LAB_FIXTURES/busybox/blobs/sha256/${arm_layer#sha256:}" bin/busybox 2>/dev/null |
          head -c 20 | od -An -tx1 -j18 -N2 | tr -d ' ')
if [ "$LAB_ARM64_REAL" = 1 ]; then
  is "arm64 busybox is an aarch64 binary (e_machine 0xb7)" "$machine" "b700"
else
  skip "busybox-static:arm64 was not available; the arm64 image is a relabelled copy"
fi
lman="$LAB_FIXTURES/layered/blobs/sha256/${LAB_DIGEST_LAYERED#sha256:}"
is "layered has 3 layers" "$(jq '.layers | length' "$lman")" 3
is "layered shares its first layer with busybox" "$(jq -r '.layers[0].digest' "$lman")" "$LAB_DIGEST_BUSYBOX_LAYER"
l3=$(jq -r '.layers[2].digest' "$lman")
like "layered's third layer holds whiteouts" \
  "$(tar -tzf "$LAB_FIXTURES/layered/blobs/sha256/${l3#sha256:}" | tr '\n' ' ')" 'data/\.wh\.remove-me\.txt.*|data/\.wh\.gone'
bb_tar=$(tar -tzf "$LAB_FIXTURES/busybox/blobs/sha256/${LAB_DIGEST_BUSYBOX_LAYER#sha256:}" | tr '\n' ' ')
like "busybox rootfs has httpd, nc, sh, passwd, tmp" "$bb_tar" 'bin/httpd .*bin/nc .*bin/sh .*etc/passwd .*tmp/'
passwd=$(tar -xzOf "$LAB_FIXTURES/busybox/blobs/sha256/${LAB_DIGEST_BUSYBOX_LAYER#sha256:}" etc/passwd)
like "busybox /etc/passwd has app with uid 1000" "$passwd" 'app:x:1000:1000:'

# ---- skopeo against the three registries ------------------------------------
is "skopeo inspect busybox over plain HTTP: the index digest" \
  "$(sk inspect --raw --tls-verify=false "docker://$LAB_HTTP/library/busybox:latest" | sha)" "${LAB_DIGEST_BUSYBOX#sha256:}"
is "skopeo inspect busybox:1.35 over plain HTTP" \
  "$(sk inspect --raw --tls-verify=false "docker://$LAB_HTTP/library/busybox:1.35" | sha)" "${LAB_DIGEST_BUSYBOX#sha256:}"
is "skopeo picks arm64 from the index" \
  "$(sk inspect --override-arch arm64 --tls-verify=false "docker://$LAB_HTTP/library/busybox:latest" | jq -r .Architecture)" arm64
is "skopeo inspect busybox with Basic auth" \
  "$(sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --creds "$U" "docker://$LAB_BASIC/library/busybox:latest" | sha)" \
  "${LAB_DIGEST_BUSYBOX#sha256:}"
fails "Basic registry refuses skopeo without credentials" \
  sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --no-creds "docker://$LAB_BASIC/library/busybox:latest"
is "skopeo inspect busybox with token auth (tester)" \
  "$(sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --creds "$U" "docker://$LAB_TOKEN/library/busybox:latest" | sha)" \
  "${LAB_DIGEST_BUSYBOX#sha256:}"
is "token registry: anonymous pull of library/busybox" \
  "$(sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --no-creds "docker://$LAB_TOKEN/library/busybox:latest" | sha)" \
  "${LAB_DIGEST_BUSYBOX#sha256:}"
fails "token registry: anonymous pull of private/app is refused" \
  sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --no-creds "docker://$LAB_TOKEN/private/app:latest"
is "token registry: tester pulls private/app" \
  "$(sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --creds "$U" "docker://$LAB_TOKEN/private/app:latest" | sha)" \
  "${LAB_DIGEST_APP#sha256:}"
is "token registry: reader pulls private/app" \
  "$(sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --creds "$R" "docker://$LAB_TOKEN/private/app:latest" | sha)" \
  "${LAB_DIGEST_APP#sha256:}"
fails "token registry: a wrong password is refused" \
  sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --creds "$LAB_USER:wrong" "docker://$LAB_TOKEN/library/busybox:latest"
fails "token registry: reader cannot push" \
  sk copy --dest-cert-dir "$LAB_CERTS_DIR" --dest-creds "$R" "oci:$LAB_FIXTURES/busybox:amd64" \
  "docker://$LAB_TOKEN/lab-check/reader-$uniq:1"
fails "token registry: anonymous cannot push to library/" \
  sk copy --dest-cert-dir "$LAB_CERTS_DIR" --dest-no-creds "oci:$LAB_FIXTURES/busybox:amd64" \
  "docker://$LAB_TOKEN/library/anon-$uniq:1"
ok "token registry: tester can push" \
  sk copy --dest-cert-dir "$LAB_CERTS_DIR" --dest-creds "$U" "oci:$LAB_FIXTURES/busybox:amd64" \
  "docker://$LAB_TOKEN/lab-check/tester-$uniq:1"
is "private/app on the Basic registry" \
  "$(sk inspect --raw --cert-dir "$LAB_CERTS_DIR" --creds "$U" "docker://$LAB_BASIC/private/app:latest" | sha)" \
  "${LAB_DIGEST_APP#sha256:}"
for reg in "$LAB_HTTP" "$LAB_BASIC" "$LAB_TOKEN"; do
  if [ "$reg" = "$LAB_HTTP" ]; then f=(--tls-verify=false); else f=(--cert-dir "$LAB_CERTS_DIR" --creds "$U"); fi
  is "layered:latest on $reg" "$(sk inspect --raw "${f[@]}" "docker://$reg/library/layered:latest" | sha)" \
    "${LAB_DIGEST_LAYERED#sha256:}"
  is "layered:v2s2 on $reg is the Docker schema2 copy" \
    "$(sk inspect --raw "${f[@]}" "docker://$reg/library/layered:v2s2" | jq -r .mediaType)" \
    "application/vnd.docker.distribution.manifest.v2+json"
done
ct=$(curl -s -D - -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
     "http://$LAB_HTTP/v2/library/layered/manifests/v2s2" | tr -d '\r' | grep -i '^docker-content-digest:')
like "layered:v2s2's digest is LAB_DIGEST_LAYERED_V2S2" "$ct" "$LAB_DIGEST_LAYERED_V2S2"

# ---- the registry's access log counts requests ------------------------------
# (skopeo may mount a blob it knows from another repository instead of
# uploading it, so count both.)
blob_writes () { # log repo -> upload PUTs + mount POSTs that the registry answered 201
  grep -cE "\"(PUT /v2/$2/blobs/uploads/[^ ]*|POST /v2/$2/blobs/uploads/\\?[^ ]*mount=[^ ]*) HTTP/1.1\" 201" "$1"
}
is "nothing logged for the repository before the push" "$(blob_writes "$LAB_LOG_HTTP" "lab-check/logged-$uniq")" 0
ok "push to the plain HTTP registry" sk copy --dest-tls-verify=false "oci:$LAB_FIXTURES/app:latest" \
  "docker://$LAB_HTTP/lab-check/logged-$uniq:1"
is "the access log shows 3 blobs written (2 layers + config)" "$(blob_writes "$LAB_LOG_HTTP" "lab-check/logged-$uniq")" 3

# ---- the token server -----------------------------------------------------------
T=$LAB_TOKEN_REALM
resp=$(curl -s "${TLS[@]}" -u "$U" "$T?service=$LAB_TOKEN_SERVICE&scope=repository:lab-check/x:pull,push&scope=repository:private/app:pull&account=$LAB_USER&offline_token=true&client_id=lab")
ok "GET /token returns token and access_token" jq -e '.token != null and .access_token == .token' <<< "$resp"
ok "GET /token returns expires_in and issued_at" jq -e '(.expires_in|type) == "number" and (.issued_at|test("^[0-9-]+T[0-9:]+Z$"))' <<< "$resp"
ok "GET with offline_token=true returns a refresh_token" jq -e '.refresh_token | length > 10' <<< "$resp"
claims=$(jwt_claims "$(jq -r .token <<< "$resp")")
is "repeated scope= both granted to tester" \
  "$(jq -c '[.access[] | [.name, (.actions|sort|join(","))]]' <<< "$claims")" '[["lab-check/x","pull,push"],["private/app","pull"]]'
is "the JWT's aud is the service" "$(jq -r .aud <<< "$claims")" "$LAB_TOKEN_SERVICE"
is "the JWT's iss is the issuer" "$(jq -r .iss <<< "$claims")" "$LAB_TOKEN_ISSUER"
is "a wrong password gets 401" "$(code "${TLS[@]}" -u "$LAB_USER:wrong" "$T?service=$LAB_TOKEN_SERVICE")" 401
is "an unknown user gets 401" "$(code "${TLS[@]}" -u "nobody:x" "$T?service=$LAB_TOKEN_SERVICE")" 401
claims=$(jwt_claims "$(curl -s "${TLS[@]}" -u "$R" "$T?service=$LAB_TOKEN_SERVICE&scope=repository:x/y:pull,push" | jq -r .token)")
is "reader asking pull,push gets only pull" "$(jq -c '.access[0].actions' <<< "$claims")" '["pull"]'
claims=$(jwt_claims "$(curl -s "${TLS[@]}" "$T?service=$LAB_TOKEN_SERVICE&scope=repository:public/z:pull&scope=repository:other/z:pull" | jq -r .token)")
is "anonymous gets pull on public/ but not elsewhere" "$(jq -c '[.access[].actions]' <<< "$claims")" '[["pull"],[]]'
resp=$(curl -s "${TLS[@]}" -d grant_type=password -d "username=$LAB_USER" --data-urlencode "password=$LAB_PASS" \
       -d client_id=lab -d "service=$LAB_TOKEN_SERVICE" -d access_type=offline \
       --data-urlencode 'scope=repository:a/b:pull repository:c/d:push' "$T")
ok "POST grant_type=password returns access_token, token and refresh_token" \
  jq -e '.access_token != null and .token == .access_token and (.refresh_token|length) > 10 and .expires_in > 0' <<< "$resp"
is "POST takes space-separated scopes" \
  "$(jwt_claims "$(jq -r .access_token <<< "$resp")" | jq -c '[.access[].name]')" '["a/b","c/d"]'
rt=$(jq -r .refresh_token <<< "$resp")
resp=$(curl -s "${TLS[@]}" -d grant_type=refresh_token --data-urlencode "refresh_token=$rt" -d client_id=lab \
       -d "service=$LAB_TOKEN_SERVICE" -d 'scope=repository:a/b:pull' "$T")
ok "POST grant_type=refresh_token returns a new access_token" jq -e '.access_token != null and .refresh_token != null' <<< "$resp"
is "the refreshed token is the refresh token's user's" "$(jwt_claims "$(jq -r .access_token <<< "$resp")" | jq -r .sub)" "$LAB_USER"
is "POST with a bad refresh token gets 401" \
  "$(code "${TLS[@]}" -d grant_type=refresh_token -d refresh_token=bogus -d client_id=lab "$T")" 401
is "POST with a wrong password gets 401" \
  "$(code "${TLS[@]}" -d grant_type=password -d "username=$LAB_USER" -d password=wrong -d client_id=lab "$T")" 401
is "POST without client_id gets 400" \
  "$(code "${TLS[@]}" -d grant_type=password -d "username=$LAB_USER" --data-urlencode "password=$LAB_PASS" "$T")" 400

# A token used at the registry; then one born expired (tokenctl expire-next).
tok () { curl -s "${TLS[@]}" "$T?service=$LAB_TOKEN_SERVICE&scope=repository:library/busybox:pull" | jq -r .token; }
M="https://$LAB_TOKEN/v2/library/busybox/manifests/latest"
ACC='Accept: application/vnd.oci.image.index.v1+json'
is "the registry accepts a fresh token" "$(code "${TLS[@]}" -H "$ACC" -H "Authorization: Bearer $(tok)" "$M")" 200
ok "tokenctl expire-next 1" "$TCTL" expire-next 1
bad=$(tok)
is "the registry refuses an expired token" "$(code "${TLS[@]}" -H "$ACC" -H "Authorization: Bearer $bad" "$M")" 401
like "... saying invalid_token" "$(curl -s -D - -o /dev/null "${TLS[@]}" -H "Authorization: Bearer $bad" "$M" | grep -i www-authenticate)" 'error="invalid_token"'
is "the next token is good again" "$(code "${TLS[@]}" -H "$ACC" -H "Authorization: Bearer $(tok)" "$M")" 200
ok "tokenctl ttl 77" "$TCTL" ttl 77
is "expires_in follows the configured lifetime" \
  "$(curl -s "${TLS[@]}" "$T?service=$LAB_TOKEN_SERVICE" | jq .expires_in)" 77
ok "tokenctl fail-next 1 503" "$TCTL" fail-next 1 503
is "the token server fails once on request" "$(code "${TLS[@]}" "$T?service=$LAB_TOKEN_SERVICE")" 503
is "... then answers again" "$(code "${TLS[@]}" "$T?service=$LAB_TOKEN_SERVICE")" 200
ok "tokenctl post off" "$TCTL" post off
is "POST /token answers 404 when OAuth2 is off" \
  "$(code "${TLS[@]}" -d grant_type=password -d "username=$LAB_USER" --data-urlencode "password=$LAB_PASS" -d client_id=lab "$T")" 404
ok "tokenctl reset" "$TCTL" reset
is "reset restores the lifetime" "$(curl -s "${TLS[@]}" "$T?service=$LAB_TOKEN_SERVICE" | jq .expires_in)" "$LAB_TOKEN_TTL"

# ---- the fault proxy -------------------------------------------------------------
F="http://$LAB_FAULT"
BLOB="$F/v2/library/busybox/blobs/$LAB_DIGEST_BUSYBOX_LAYER"
size=$(stat -c %s "$LAB_FIXTURES/busybox/blobs/sha256/${LAB_DIGEST_BUSYBOX_LAYER#sha256:}")
ok "faultctl reset" "$FCTL" reset
is "pass-through: the blob arrives intact" "$(curl -s --max-time 10 "$BLOB" | sha)" "${LAB_DIGEST_BUSYBOX_LAYER#sha256:}"
is "pass-through: skopeo inspect through the proxy" \
  "$(sk inspect --raw --tls-verify=false "docker://$LAB_FAULT/library/busybox:latest" | sha)" "${LAB_DIGEST_BUSYBOX#sha256:}"
ok "push through the proxy (uploads follow the registry's Location back to the proxy)" \
  sk copy --dest-tls-verify=false "oci:$LAB_FIXTURES/busybox:amd64" "docker://$LAB_FAULT/lab-check/proxied-$uniq:1"
is "faultctl count sees the blobs written (upload PUTs + mount POSTs)" \
  $(( $("$FCTL" count "^/v2/lab-check/proxied-$uniq/blobs/uploads/[^?]" PUT) + \
      $("$FCTL" count "^/v2/lab-check/proxied-$uniq/blobs/uploads/\\?.*mount=" POST) )) 2

ok "add: 503 twice on manifests" "$FCTL" add status code=503 path=/manifests/ count=2
MF="$F/v2/library/busybox/manifests/latest"
codes=""
for _ in 1 2 3; do codes+="$(code -H "$ACC" "$MF") "; done
is "503, 503, then the registry's 200" "$codes" "503 503 200 "
ok "add: 429 once" "$FCTL" add status code=429 path=/manifests/ count=1
h=$(curl -s -D - -o /dev/null -H "$ACC" "$MF" | tr -d '\r')
like "429 carries Retry-After: 1" "$h" $'HTTP/1.1 429.*\nRetry-After: 1'
is "the rules count their hits" "$("$FCTL" rules | jq -c '[.[].hits]')" '[2,1]'

"$FCTL" reset
ok "add: cut after 1000 bytes" "$FCTL" add cut bytes=1000 path=/blobs/sha256: count=1
curl -s --max-time 10 -o "$T_TMP/cut" "$BLOB"; rc=$?
is "a cut connection is a curl error (18: partial file)" "$rc" 18
is "... after exactly 1000 bytes" "$(stat -c %s "$T_TMP/cut")" 1000
is "the next GET is whole again" "$(curl -s --max-time 10 "$BLOB" | sha)" "${LAB_DIGEST_BUSYBOX_LAYER#sha256:}"

ok "add: truncate" "$FCTL" add truncate path=/blobs/sha256: count=1
curl -s --max-time 10 -o "$T_TMP/trunc" "$BLOB"; rc=$?
is "a truncated body looks complete to HTTP (curl exit 0)" "$rc" 0
is "... but holds half the blob" "$(stat -c %s "$T_TMP/trunc")" $((size / 2))

ok "add: corrupt one byte" "$FCTL" add corrupt offset=12345 path=/blobs/sha256: count=1
curl -s --max-time 10 -o "$T_TMP/corrupt" "$BLOB"
is "a corrupted body has the full size" "$(stat -c %s "$T_TMP/corrupt")" "$size"
is "... and exactly one differing byte" \
  "$(cmp -l "$T_TMP/corrupt" "$LAB_FIXTURES/busybox/blobs/sha256/${LAB_DIGEST_BUSYBOX_LAYER#sha256:}" | wc -l)" 1

h=$(curl -s -D - -o "$T_TMP/range" -H 'Range: bytes=100-199' "$BLOB" | tr -d '\r')
like "Range passes through: 206 with Content-Range" "$h" "HTTP/1.1 206.*Content-Range: bytes 100-199/$size"
is "... and the right bytes" "$(sha < "$T_TMP/range")" \
  "$(tail -c +101 "$LAB_FIXTURES/busybox/blobs/sha256/${LAB_DIGEST_BUSYBOX_LAYER#sha256:}" | head -c 100 | sha)"

ok "add: cut only non-ranged GETs" "$FCTL" add cut bytes=500 path=/blobs/sha256: range=no count=1
curl -s --max-time 10 -o "$T_TMP/part" "$BLOB"
curl -s --max-time 10 -H 'Range: bytes=500-' "$BLOB" >> "$T_TMP/part"
is "a resumed download (Range: bytes=500-) completes the blob" "$(sha < "$T_TMP/part")" "${LAB_DIGEST_BUSYBOX_LAYER#sha256:}"

ok "add: hang" "$FCTL" add hang path=/v2/$ count=1 seconds=60
start=$(date +%s)
curl -s --max-time 2 -o /dev/null "$F/v2/"; rc=$?
is "a hung request times out (curl 28)" "$rc" 28
ok "reset ends the hang" "$FCTL" reset
is "and the proxy answers again at once" "$(code "$F/v2/")" 200
ok "hang did not block the proxy for long" test $(( $(date +%s) - start )) -lt 10

ok "add: drop" "$FCTL" add drop path=/v2/$ count=1
curl -s --max-time 5 -o /dev/null "$F/v2/"; rc=$?
is "a dropped connection gives no reply (curl 52)" "$rc" 52

ok "add: skip one, then 500 once" "$FCTL" add status code=500 path=/v2/$ skip=1 count=1
codes=""
for _ in 1 2 3; do codes+="$(code "$F/v2/") "; done
is "skip lets the first through" "$codes" "200 500 200 "

ok "add: delay 1 s" "$FCTL" add delay seconds=1 path=/v2/$ count=1
t0=$(date +%s%N); code "$F/v2/" >/dev/null; t1=$(date +%s%N)
ok "a delayed answer takes at least 1 s" test $(( (t1 - t0) / 1000000 )) -ge 1000

ok "add: slow 20000 B/s" "$FCTL" add slow rate=20000 path=/blobs/sha256: count=1
t0=$(date +%s%N)
got=$(curl -s --max-time 20 -H 'Range: bytes=0-39999' "$BLOB" | wc -c); t1=$(date +%s%N)
is "slow sends the whole range" "$got" 40000
ok "slow takes about 2 s for 40000 bytes" test $(( (t1 - t0) / 1000000 )) -ge 1500

fails "faultctl rejects an unknown action" "$FCTL" add explode
fails "faultctl rejects an unknown key" "$FCTL" add status cod=503
"$FCTL" reset
done_testing
