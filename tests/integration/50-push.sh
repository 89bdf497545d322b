#!/bin/bash
# push against the lab's real registries (plain HTTP, HTTPS + Basic, HTTPS +
# token), with skopeo and podman as oracles, the registries' access logs to
# count uploads, and the fault proxy for broken connections and 5xx.
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_HTTP:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
F=$LAB_FAULTCTL
R=lab-check/push-$$
conf () { echo "$1" > "$IMGTOOL_CONFIG"; }
conf "{\"insecure-registries\": [\"$LAB_HTTP\", \"$LAB_FAULT\"], \"http-timeout\": 5, \"http-retries\": 2}"
stderr_of () { "$IMGTOOL" "$@" 2>&1 >/dev/null; }
# A store holding the fixture images, put there by skopeo (not imgtool).
fresh_store () {
  rm -rf "$IMGTOOL_ROOT"
  img images >/dev/null
  skopeo copy -q "oci:$LAB_FIXTURES/layered:latest" "oci:$IMGTOOL_ROOT/oci:example.com/layered:1" >/dev/null
}
# Requests to one repository in a registry's access log.
log_count () { # log, regex
  grep -v 'level=' "$1" | grep -cE "$2"
}
sk_digest () { # docker ref without scheme, extra skopeo options
  local ref=$1; shift
  skopeo inspect --format '{{.Digest}}' "$@" "docker://$ref" 2>&1
}
F_reqs () { $F requests | jq -r '.[] | "\(.method) \(.path) \(.status)"'; }
$F reset >/dev/null

# --- plain HTTP: push, skopeo reads it back ---------------------------------
fresh_store
out=$(img push example.com/layered:1 "$LAB_HTTP/$R/layered:1" 2>&1); rc=$?
is "push to the plain-HTTP registry" "$rc" 0
like "says where it pushes" "$out" "The push refers to repository \[$LAB_HTTP/$R/layered\]"
like "docker's last line: tag, digest, size" "$(echo "$out" | tail -1)" "^1: digest: $LAB_DIGEST_LAYERED size: [0-9]+$"
is "skopeo inspect: the same manifest digest" "$(sk_digest "$LAB_HTTP/$R/layered:1" --tls-verify=false)" "$LAB_DIGEST_LAYERED"
skopeo copy -q --src-tls-verify=false "docker://$LAB_HTTP/$R/layered:1" "oci:$T_TMP/back:x" >/dev/null 2>&1
is "skopeo copy back: same manifest" "$(jq -r '.manifests[0].digest' "$T_TMP/back/index.json")" "$LAB_DIGEST_LAYERED"
is "skopeo copy back: the same blobs" "$(ls "$T_TMP/back/blobs/sha256" | sort | tr '\n' ' ')" \
  "$(cd "$LAB_FIXTURES/layered/blobs/sha256" && skopeo inspect --raw "oci:$LAB_FIXTURES/layered:latest" | jq -r '.config.digest, .layers[].digest' | cut -c8- | { cat; echo "${LAB_DIGEST_LAYERED#sha256:}"; } | sort | tr '\n' ' ')"
cmp -s "$T_TMP/back/blobs/sha256/${LAB_DIGEST_LAYERED#sha256:}" "$IMGTOOL_ROOT/oci/blobs/sha256/${LAB_DIGEST_LAYERED#sha256:}"
is "the manifest went byte-for-byte" $? 0
uploads () { log_count "$LAB_LOG_HTTP" "\"(POST|PUT|PATCH) /v2/$R/$1/blobs/uploads"; }
before=$(uploads layered)
out=$(img push example.com/layered:1 "$LAB_HTTP/$R/layered:1" 2>&1)
is "second push: no upload request at all" "$(( $(uploads layered) - before ))" 0
is "second push: every blob already exists" "$(echo "$out" | grep -c 'Layer already exists')" 4
like "-q: only the digest line" "$(img push -q example.com/layered:1 "$LAB_HTTP/$R/layered:1")" "^1: digest: sha256:[0-9a-f]{64} size: [0-9]+$"
rm -rf "$T_TMP/pm"
echo '{"auths":{}}' > "$T_TMP/pm-auth.json"
pm () { REGISTRY_AUTH_FILE=$T_TMP/pm-auth.json podman --root "$T_TMP/pm/root" --runroot "$T_TMP/pm/run" --storage-driver vfs "$@"; }
ok "podman pulls what imgtool pushed" pm pull -q --tls-verify=false "docker://$LAB_HTTP/$R/layered:1"
is "podman sees the same digest" "$(pm image inspect --format '{{.Digest}}' "$LAB_HTTP/$R/layered:1" 2>&1)" "$LAB_DIGEST_LAYERED"
rm -rf "$T_TMP/pm"

# --- bad input ---------------------------------------------------------------
fails "a tag not in the store" img push example.com/layered:nope "$LAB_HTTP/$R/x:1"
like "no such image" "$LAST_OUT" "^imgtool: push 'example.com/layered:nope': no such image: 'example.com/layered:nope'"
fails "a bad destination" img push example.com/layered:1 "$LAB_HTTP/UPPER/x:1"
like "says what is wrong with it" "$LAST_OUT" "^imgtool: push '$LAB_HTTP/UPPER/x:1': "
fails "a bad chunk size" img push --chunk-size 12q example.com/layered:1 "$LAB_HTTP/$R/x:1"
like "usage error" "$LAST_OUT" "usage: imgtool push"

# --- cross-repository mount --------------------------------------------------
out=$(img push example.com/layered:1 "$LAB_HTTP/$R/mounted:1" 2>&1)
like "push to another repository mounts" "$out" "Mounted from $R/layered"
is "the log shows mounts from the first repository" \
  "$(log_count "$LAB_LOG_HTTP" "\"POST /v2/$R/mounted/blobs/uploads/\?mount=sha256:[0-9a-f]{64}&from=$R/layered HTTP/1.1\" 201")" 4
is "and no upload" "$(log_count "$LAB_LOG_HTTP" "\"(PUT|PATCH) /v2/$R/mounted/blobs/uploads")" 0
is "skopeo: same digest after the mount" "$(sk_digest "$LAB_HTTP/$R/mounted:1" --tls-verify=false)" "$LAB_DIGEST_LAYERED"
rm -rf "$IMGTOOL_ROOT"
ok "pull busybox (records where its blobs are)" img pull -q "$LAB_HTTP/library/busybox"
out=$(img push "$LAB_HTTP/library/busybox" "$LAB_HTTP/$R/bb:1" 2>&1)
is "a pulled image is mounted from where it came from" "$(echo "$out" | grep -c "Mounted from library/busybox")" 2
is "no upload for it" "$(log_count "$LAB_LOG_HTTP" "\"(PUT|PATCH) /v2/$R/bb/blobs/uploads")" 0
# A mount the registry cannot do (the source lacks the blob) falls back to an upload.
echo "$LAB_HTTP/$R/nowhere" > "$T_TMP/src"
for f in "$IMGTOOL_ROOT"/sources/*; do cp "$T_TMP/src" "$f"; done
out=$(img push "$LAB_HTTP/library/busybox" "$LAB_HTTP/$R/fallback:1" 2>&1); rc=$?
is "a refused mount falls back to an upload" "$rc" 0
is "the mount was asked" "$(log_count "$LAB_LOG_HTTP" "\"POST /v2/$R/fallback/blobs/uploads/\?mount=.*&from=$R/nowhere HTTP/1.1\" 202")" 2
is "then uploaded with the session it opened" "$(log_count "$LAB_LOG_HTTP" "\"PUT /v2/$R/fallback/blobs/uploads/.*digest=sha256.* 201")" 2
is "skopeo: same digest" "$(sk_digest "$LAB_HTTP/$R/fallback:1" --tls-verify=false)" "$LAB_DIGEST_BUSYBOX_AMD64"

# --- multi-arch --------------------------------------------------------------
fails "push --all with a platform missing from the store" img push --all "$LAB_HTTP/library/busybox" "$LAB_HTTP/$R/multi:1"
like "names the missing manifest and what to do" "$LAST_OUT" "manifest sha256:[0-9a-f]{12} \(linux/arm64/v8\) of the index is not in the store \(pull with --all-platforms first\)"
ok "pull --all-platforms" img pull -q --all-platforms "$LAB_HTTP/library/busybox"
ok "push --all" img push -q --all "$LAB_HTTP/library/busybox" "$LAB_HTTP/$R/multi:1"
got=$(skopeo inspect --raw --tls-verify=false "docker://$LAB_HTTP/$R/multi:1" | sha256sum | cut -c1-64)
is "skopeo inspect --raw: the same index" "sha256:$got" "$LAB_DIGEST_BUSYBOX"
ok "skopeo copy --all back" skopeo copy -q --all --src-tls-verify=false "docker://$LAB_HTTP/$R/multi:1" "oci:$T_TMP/multi:x"
is "both platforms came back" "$(ls "$T_TMP/multi/blobs/sha256" | grep -c -e "${LAB_DIGEST_BUSYBOX_AMD64#sha256:}" -e "${LAB_DIGEST_BUSYBOX_ARM64#sha256:}")" 2
out=$(img push "$LAB_HTTP/library/busybox" "$LAB_HTTP/$R/single:1" 2>&1)
like "without --all: the host's platform manifest" "$out" "1: digest: $LAB_DIGEST_BUSYBOX_AMD64 "
out=$(img push --platform linux/arm64 "$LAB_HTTP/library/busybox" "$LAB_HTTP/$R/single:arm" 2>&1)
like "--platform chooses another" "$out" "arm: digest: $LAB_DIGEST_BUSYBOX_ARM64 "

# --- the registry refuses the manifest ---------------------------------------
# A manifest naming a non-distributable layer without URLs: imgtool does
# not push the layer (docker does not), the registry refuses the manifest.
fresh_store
B=$IMGTOOL_ROOT/oci/blobs/sha256
jq -c '.layers += [{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip","digest":"sha256:00000000000000000000000000000000000000000000000000000000000000aa","size":10}]' \
  "$B/${LAB_DIGEST_LAYERED#sha256:}" | tr -d '\n' > "$T_TMP/bad.json"
bad=$(sha256sum "$T_TMP/bad.json" | cut -c1-64)
cp "$T_TMP/bad.json" "$B/$bad"
jq --arg d "sha256:$bad" --argjson s "$(stat -c %s "$T_TMP/bad.json")" \
  '.manifests += [{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":$d,"size":$s,"annotations":{"org.opencontainers.image.ref.name":"example.com/bad:1"}}]' \
  "$IMGTOOL_ROOT/oci/index.json" > "$T_TMP/ix" && cp "$T_TMP/ix" "$IMGTOOL_ROOT/oci/index.json"
fails "a manifest the registry refuses" img push example.com/bad:1 "$LAB_HTTP/$R/bad:1"
like "shows the registry's message" "$LAST_OUT" "imgtool: push '$LAB_HTTP/$R/bad:1': the registry refused manifest sha256:${bad:0:12}: 400 bad request: blob unknown to registry$"
fails "nothing tagged" skopeo inspect --tls-verify=false "docker://$LAB_HTTP/$R/bad:1"

# --- Basic auth --------------------------------------------------------------
fails "Basic registry without credentials" img push example.com/layered:1 "$LAB_BASIC/$R/app:1"
like "says a login is needed" "$LAST_OUT" "requires a login"
mkdir -p "$DOCKER_CONFIG"
echo "{\"auths\":{\"$LAB_BASIC\":{\"auth\":\"$(printf '%s' "$LAB_USER:wrong" | base64)\"},\"$LAB_TOKEN\":{\"auth\":\"$(printf '%s' "$LAB_USER:wrong" | base64)\"}}}" > "$DOCKER_CONFIG/config.json"
fails "Basic registry, wrong password" img push example.com/layered:1 "$LAB_BASIC/$R/app:1"
like "says the credentials were rejected" "$LAST_OUT" "imgtool: push '$LAB_BASIC/$R/app:1': $LAB_BASIC rejected the credentials: 401 unauthorized$"
fails "token registry, wrong password" img push example.com/layered:1 "$LAB_TOKEN/private/$R:1"
like "the token server rejected them" "$LAST_OUT" "imgtool: push '$LAB_TOKEN/private/$R:1': token server $LAB_TOKEN_REALM rejected the credentials: 401 unauthorized"
rm -f "$DOCKER_CONFIG/config.json"
ok "login (Basic)" sh -c "echo '$LAB_PASS' | '$IMGTOOL' login -u '$LAB_USER' --password-stdin '$LAB_BASIC'"
ok "push over HTTPS + Basic" img push -q example.com/layered:1 "$LAB_BASIC/$R/app:1"
is "skopeo with the credentials: same digest" \
  "$(sk_digest "$LAB_BASIC/$R/app:1" --creds "$LAB_USER:$LAB_PASS" --cert-dir "$LAB_CERTS_DIR")" "$LAB_DIGEST_LAYERED"

# --- progress on a terminal ---------------------------------------------------
# docker's bars: "Pushing" while a blob goes up (pull's say "Downloading").
fresh_store
out=$(TERM=xterm "$TESTS_DIR/helpers/pty-drive.py" -- "$IMGTOOL" push \
  example.com/layered:1 "$LAB_HTTP/$R/tty:1" 2>&1)
like "push on a terminal draws a bar per blob, saying Pushing" "$out" \
  '[0-9a-f]{12}: Pushing \['
is "never Downloading" "$(grep -c Downloading <<<"$out")" 0

# --- token auth --------------------------------------------------------------
fails "anonymous push to the token registry" img push example.com/layered:1 "$LAB_TOKEN/private/$R:1"
like "unauthorized: authentication required" "$LAST_OUT" "imgtool: push '$LAB_TOKEN/private/$R:1': unauthorized: authentication required \(no credentials for $LAB_TOKEN"
ok "login as reader" sh -c "echo '$LAB_READER_PASS' | '$IMGTOOL' login -u '$LAB_READER' --password-stdin '$LAB_TOKEN'"
fails "reader has no push right" img push example.com/layered:1 "$LAB_TOKEN/private/$R:1"
is "denied, in docker's words" "$(echo "$LAST_OUT" | tail -1)" "imgtool: push '$LAB_TOKEN/private/$R:1': denied: requested access to the resource is denied"
ok "login as tester" sh -c "echo '$LAB_PASS' | '$IMGTOOL' login -u '$LAB_USER' --password-stdin '$LAB_TOKEN'"
issued0=$("$LAB_TOKENCTL" stats | jq .issued)
"$LAB_TOKENCTL" expire-next 1 >/dev/null
ok "push with a token that expired (401 mid-push, new token)" img push -q example.com/layered:1 "$LAB_TOKEN/private/$R:1"
"$LAB_TOKENCTL" reset >/dev/null
is "skopeo with the credentials: same digest" \
  "$(sk_digest "$LAB_TOKEN/private/$R:1" --creds "$LAB_USER:$LAB_PASS" --cert-dir "$LAB_CERTS_DIR")" "$LAB_DIGEST_LAYERED"
like "one token with pull,push for the repository" "$(grep -c "scope.*repository:private/$R:pull,push\|repository:private/$R:push,pull" "$LAB_LOG_TOKEN_SERVER")" "^[1-9]"

# --- faults --------------------------------------------------------------------
fresh_store
$F reset >/dev/null
$F add status code=503 path=/blobs/uploads/ method=POST count=2 >/dev/null
ok "503 on the upload POST is retried" img push -q example.com/layered:1 "$LAB_FAULT/$R/busy:1"
is "skopeo: same digest" "$(sk_digest "$LAB_FAULT/$R/busy:1" --tls-verify=false)" "$LAB_DIGEST_LAYERED"

# A connection broken in the middle of a chunked upload: the upload's status
# says how much the registry kept, and the upload goes on from there. (The
# first drop meets a reused connection, which curl itself opens again; the
# second breaks the fresh one.)
fresh_store
$F reset >/dev/null
$F add drop method=PATCH skip=2 count=2 >/dev/null
out=$(img -v push --jobs 1 --chunk-size 256k example.com/layered:1 "$LAB_FAULT/$R/resume:1" 2>&1); rc=$?
is "a PATCH broken mid-blob: the push completes" "$rc" 0
like "it continued at the byte the registry reported" "$out" "$LAB_DIGEST_BUSYBOX_LAYER: continuing the upload at byte 524288"
# one status request per broken connection that curl did not itself reopen:
# 1, or 2 when the keep-alive connection had already gone (timing)
n_status=$($F count '/blobs/uploads/.+' GET)
ok "a status request (GET on the upload) per break, no more ($n_status)" test "$n_status" -ge 1 -a "$n_status" -le 2
is "5 + 3 chunks and the two broken ones" "$($F count '/blobs/uploads/.+' PATCH)" 10
is "skopeo: same digest" "$(sk_digest "$LAB_FAULT/$R/resume:1" --tls-verify=false)" "$LAB_DIGEST_LAYERED"

# Every PUT of the big layer broken: the push fails, cancels its upload and
# tags nothing; the rerun uploads only that layer.
fresh_store
$F reset >/dev/null
$F add drop method=PUT path="digest=$LAB_DIGEST_BUSYBOX_LAYER" >/dev/null
fails "every PUT of a layer broken: the push fails" img push example.com/layered:1 "$LAB_FAULT/$R/rerun:1"
like "names the blob and the break" "$LAST_OUT" "push blob sha256:${LAB_DIGEST_BUSYBOX_LAYER:7:12}: upload blob: $LAB_FAULT: .*gave up after"
is "the open upload was cancelled" "$($F count '/blobs/uploads/.+' DELETE)" 1
fails "nothing tagged" skopeo inspect --tls-verify=false "docker://$LAB_HTTP/$R/rerun:1"
$F reset >/dev/null
out=$(img push example.com/layered:1 "$LAB_FAULT/$R/rerun:1" 2>&1); rc=$?
is "the rerun completes" "$rc" 0
is "the rerun uploads one blob" "$($F count "/blobs/uploads/.*digest=sha256:" PUT)" 1
is "and it is the missing layer" "$($F count "/blobs/uploads/.*digest=$LAB_DIGEST_BUSYBOX_LAYER" PUT)" 1
is "the other three were there" "$(echo "$out" | grep -c 'Layer already exists')" 3
is "skopeo: same digest" "$(sk_digest "$LAB_FAULT/$R/rerun:1" --tls-verify=false)" "$LAB_DIGEST_LAYERED"

# A HEAD broken by the network is asked again, not taken for "missing".
$F reset >/dev/null
$F add drop method=HEAD count=1 >/dev/null
out=$(img push example.com/layered:1 "$LAB_FAULT/$R/rerun:1" 2>&1); rc=$?
is "a broken HEAD is retried" "$rc" 0
is "no blob uploaded after it" "$($F count '/blobs/uploads/' POST)" 0
$F reset >/dev/null

# --- --tls-verify without the config's insecure entry ------------------------
conf '{"http-timeout": 5, "http-retries": 0}'
fails "plain HTTP is refused by default" img push example.com/layered:1 "$LAB_HTTP/$R/tls:1"
like "by the TLS handshake" "$LAST_OUT" "tls: handshake with $LAB_HTTP failed"
ok "--tls-verify=false reaches it" img push -q --tls-verify=false example.com/layered:1 "$LAB_HTTP/$R/tls:1"
is "skopeo: same digest" "$(sk_digest "$LAB_HTTP/$R/tls:1" --tls-verify=false)" "$LAB_DIGEST_LAYERED"
conf "{\"insecure-registries\": [\"$LAB_HTTP\", \"$LAB_FAULT\"], \"http-timeout\": 5, \"http-retries\": 2}"

# --- an image built by imgtool build: push, then skopeo and podman pull it --
fresh_store
mkdir -p "$T_TMP/ctx"
echo "built by imgtool" > "$T_TMP/ctx/msg.txt"
printf 'FROM example.com/layered:1\nCOPY msg.txt /msg.txt\nRUN cat /msg.txt > /copy.txt\nCMD ["cat", "/copy.txt"]\n' > "$T_TMP/ctx/Buildfile"
ok "imgtool build an image" img build -q -t example.com/built:1 -f "$T_TMP/ctx/Buildfile" "$T_TMP/ctx"
out=$(img push example.com/built:1 "$LAB_HTTP/$R/built:1" 2>&1); rc=$?
is "push the built image" "$rc" 0
built_digest=$(echo "$out" | tail -1 | sed -n 's/^1: digest: \(sha256:[0-9a-f]*\) size: .*/\1/p')
is "skopeo inspect: the digest push printed" "$(sk_digest "$LAB_HTTP/$R/built:1" --tls-verify=false)" "$built_digest"
skopeo copy -q --src-tls-verify=false "docker://$LAB_HTTP/$R/built:1" "oci:$T_TMP/built-back:x" >/dev/null 2>&1
ok "skopeo copies the built image back" test -d "$T_TMP/built-back/blobs"
layer=$(jq -r '.layers[-1].digest' "$T_TMP/built-back/blobs/sha256/$(jq -r '.manifests[0].digest' "$T_TMP/built-back/index.json" | cut -d: -f2)" | cut -d: -f2)
like "its top layer holds the RUN's file" "$(tar -tzf "$T_TMP/built-back/blobs/sha256/$layer")" 'copy\.txt'
ok "podman pulls the built image" pm pull -q --tls-verify=false "docker://$LAB_HTTP/$R/built:1"
is "podman sees the same digest" "$(pm image inspect --format '{{.Digest}}' "$LAB_HTTP/$R/built:1" 2>&1)" "$built_digest"
rm -rf "$T_TMP/pm"

done_testing
