#!/bin/bash
# Redirects to another host, port or scheme (a registry handing blobs to a
# CDN): credentials and tokens stay with the registry that asked for them,
# and an HTTPS registry is never followed to plain HTTP unless the target is
# configured as insecure. The fault proxy plays the registry (:5004, or its
# HTTPS listener :5006) and its other listeners play the other hosts; they
# log every request's headers (tests/lab/README.md).
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_FAULT_ALT:-}" ]; then
  skip "the lab is not up, or without the fault proxy's extra listeners (tests/lab/up)"
  done_testing; exit
fi
F=$LAB_FAULTCTL
BB=library/busybox
ALT_PORT=${LAB_FAULT_ALT##*:}
TLS_PORT=${LAB_FAULT_TLS##*:}
MAIN_PORT=${LAB_FAULT##*:}
conf () { echo "$1" > "$IMGTOOL_CONFIG"; }
fresh () { rm -rf "$IMGTOOL_ROOT"; }
# Requests that reached a listener, with an Authorization header / in all.
with_auth () { "$F" requests | jq --argjson p "$1" '[.[] | select(.port == $p and .headers.authorization != null)] | length'; }
seen_on () { "$F" count '' '' "$1"; }
trap '"$F" reset' EXIT

# --- Basic credentials: the blobs go to another host name and port ----------
conf "{\"insecure-registries\": [\"$LAB_FAULT\", \"localhost:$ALT_PORT\", \"$LAB_FAULT_ALT\"]}"
"$F" reset
"$F" add status code=401 auth=no www_authenticate='Basic realm="lab-fault"' >/dev/null
ok "login to the challenging proxy" sh -c "echo secret | '$IMGTOOL' login -u someone --password-stdin '$LAB_FAULT'"
"$F" add redirect to="http://localhost:$ALT_PORT" path=/blobs/sha256: method=GET >/dev/null
ok "pull with blobs redirected to another host" img pull -q "$LAB_FAULT/$BB"
like "the registry got the credentials" "$("$F" requests | jq -r --argjson p "$MAIN_PORT" \
  '[.[] | select(.port == $p) | .headers.authorization // empty] | last')" '^Basic '
like "the other host served the blobs" "$("$F" count /blobs/sha256: GET "$ALT_PORT")" '^[1-9]'
is "no Authorization reached the other host" "$(with_auth "$ALT_PORT")" 0

# --- an upload Location on another host gets no credentials either ---------
# (docker sends them only to a host that asked; the distribution spec lets
# the Location point anywhere). A new layer, so that nothing is mounted.
mkdir -p "$T_TMP/ctx"
echo "redirects $$ $RANDOM" > "$T_TMP/ctx/f"
printf 'FROM %s\nCOPY f /f\n' "$LAB_FAULT/$BB" > "$T_TMP/ctx/Buildfile"
ok "build an image with a new layer" img build -q -t redir:1 "$T_TMP/ctx"
"$F" add relocate to="http://$LAB_FAULT_ALT" path='/blobs/uploads/' method=POST >/dev/null
ok "push whose upload Location is on another port" \
  img push redir:1 "$LAB_FAULT/lab-check/redirects-$$:1"
like "the uploads went there" "$("$F" count '/blobs/uploads/' PUT "$ALT_PORT")" '^[1-9]'
like "the registry got the credentials" "$("$F" requests | jq -r --argjson p "$MAIN_PORT" \
  '[.[] | select(.port == $p and .method == "POST") | .headers.authorization // empty] | last')" '^Basic '
is "no Authorization reached the upload host" "$(with_auth "$ALT_PORT")" 0

# --- a token: the redirect goes to another port of the same host ------------
fresh
rm -rf "$DOCKER_CONFIG"
"$F" reset
"$F" add status code=401 auth=no \
  www_authenticate="Bearer realm=\"$LAB_TOKEN_REALM\",service=\"$LAB_TOKEN_SERVICE\"" >/dev/null
"$F" add redirect to="http://$LAB_FAULT_ALT" path='/(manifests|blobs)/sha256:' method=GET >/dev/null
ok "pull with manifests and blobs redirected to another port" img pull -q "$LAB_FAULT/$BB"
like "the registry got a bearer token" "$("$F" requests | jq -r --argjson p "$MAIN_PORT" \
  '[.[] | select(.port == $p) | .headers.authorization // empty] | last')" '^Bearer '
like "the other port served them" "$("$F" count '/(manifests|blobs)/sha256:' GET "$ALT_PORT")" '^[1-9]'
is "no token reached the other port" "$(with_auth "$ALT_PORT")" 0

# --- https -> http ------------------------------------------------------------
# The HTTPS listener is a verified registry (the lab CA is in
# /etc/docker/certs.d/127.0.0.1:5006); its blobs are sent to plain HTTP.
fresh
conf '{}'
"$F" reset
"$F" add redirect to="http://$LAB_FAULT_ALT" port="$TLS_PORT" path=/blobs/sha256: method=GET >/dev/null
fails "an https registry redirecting to plain http is refused" img pull -q "$LAB_FAULT_TLS/$BB"
like "... in one line that says why" "$LAST_OUT" "^imgtool: pull '$LAB_FAULT_TLS/$BB:latest': .*refusing redirect to plain http 'http://$LAB_FAULT_ALT/"
is "... and nothing was asked of the plain-http host" "$(seen_on "$ALT_PORT")" 0
is "... and no image was stored" "$(img images -q 2>/dev/null)" ""
conf "{\"insecure-registries\": [\"$LAB_FAULT_ALT\"]}"
ok "followed when the http host is configured as insecure" img pull -q "$LAB_FAULT_TLS/$BB"
like "... which then served the blobs" "$(seen_on "$ALT_PORT")" '^[1-9]'
fresh
conf "{\"insecure-registries\": [\"$LAB_FAULT_TLS\"]}"
"$F" reset
"$F" add redirect to="http://$LAB_FAULT_ALT" port="$TLS_PORT" path=/blobs/sha256: method=GET >/dev/null
fails "an insecure source does not make the http target insecure" img pull -q "$LAB_FAULT_TLS/$BB"
like "... refused the same way" "$LAST_OUT" "refusing redirect to plain http"

# --- https -> https on another port keeps working -------------------------
fresh
conf '{}'
"$F" reset
"$F" add redirect to="https://$LAB_FAULT_TLS" path=/blobs/sha256: method=GET >/dev/null
ok "http -> https redirect of blobs is followed" \
  sh -c "echo '{\"insecure-registries\": [\"$LAB_FAULT\"]}' > '$IMGTOOL_CONFIG' && '$IMGTOOL' pull -q '$LAB_FAULT/$BB'"
like "... served over TLS" "$(seen_on "$TLS_PORT")" '^[1-9]'

done_testing
