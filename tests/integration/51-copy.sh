#!/bin/bash
# imgtool copy between the lab's registries and OCI layout directories:
# digests unchanged, mounts within one registry, skopeo as the oracle.
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_HTTP:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
R=lab-check/copy-$$
echo "{\"insecure-registries\": [\"$LAB_HTTP\"], \"http-timeout\": 5}" > "$IMGTOOL_CONFIG"
sk_digest () { skopeo inspect --format '{{.Digest}}' "$@" 2>&1; }
raw_digest () { echo "sha256:$(skopeo inspect --raw "$@" 2>/dev/null | sha256sum | cut -c1-64)"; }
log_count () { grep -v 'level=' "$1" | grep -cE "$2"; }

out=$(img copy "docker://$LAB_HTTP/library/layered:latest" "docker://$LAB_HTTP/$R/layered:1" 2>&1); rc=$?
is "copy within one registry" "$rc" 0
is "skopeo: the same digest" "$(sk_digest --tls-verify=false "docker://$LAB_HTTP/$R/layered:1")" "$LAB_DIGEST_LAYERED"
is "every blob mounted from the source repository" \
  "$(log_count "$LAB_LOG_HTTP" "\"POST /v2/$R/layered/blobs/uploads/\?mount=sha256:[0-9a-f]{64}&from=library/layered HTTP/1.1\" 201")" 4
is "nothing uploaded" "$(log_count "$LAB_LOG_HTTP" "\"(PUT|PATCH) /v2/$R/layered/blobs/uploads")" 0
is "the scratch store is gone" "$(ls "$IMGTOOL_ROOT/tmp")" ""

ok "login to the Basic registry" sh -c "echo '$LAB_PASS' | '$IMGTOOL' login -u '$LAB_USER' --password-stdin '$LAB_BASIC'"
ok "copy --all between registries (plain refs)" img copy -q --all "$LAB_HTTP/library/busybox" "$LAB_BASIC/$R/bb:multi"
is "skopeo: the same index, byte for byte" \
  "$(raw_digest --creds "$LAB_USER:$LAB_PASS" --cert-dir "$LAB_CERTS_DIR" "docker://$LAB_BASIC/$R/bb:multi")" "$LAB_DIGEST_BUSYBOX"
ok "copy without --all: the platform's image" img copy -q "$LAB_HTTP/library/busybox" "$LAB_BASIC/$R/bb:one"
is "skopeo: the amd64 manifest" \
  "$(sk_digest --creds "$LAB_USER:$LAB_PASS" --cert-dir "$LAB_CERTS_DIR" "docker://$LAB_BASIC/$R/bb:one")" "$LAB_DIGEST_BUSYBOX_AMD64"

# Two repositories of the token registry in one process: a token is per
# scope (pull of the source, push and pull of the destination), never the
# first one fetched for the host.
ok "login to the token registry" sh -c "echo '$LAB_PASS' | '$IMGTOOL' login -u '$LAB_USER' --password-stdin '$LAB_TOKEN'"
issued0=$("$LAB_TOKENCTL" stats | jq .issued)
ok "copy between two repositories of the token registry" \
  img copy -q "$LAB_TOKEN/library/layered:latest" "$LAB_TOKEN/$R/layered:1"
is "one token per scope set, each fetched once" "$(( $("$LAB_TOKENCTL" stats | jq .issued) - issued0 ))" 2
is "skopeo: the same digest" \
  "$(sk_digest --creds "$LAB_USER:$LAB_PASS" --cert-dir "$LAB_CERTS_DIR" "docker://$LAB_TOKEN/$R/layered:1")" "$LAB_DIGEST_LAYERED"
is "every blob mounted: the mount's token also holds pull on the source" \
  "$(log_count "$LAB_LOG_TOKEN" "\"POST /v2/$R/layered/blobs/uploads/\?mount=sha256:[0-9a-f]{64}&from=library/layered HTTP/1.1\" 201")" 4

ok "copy --all to an OCI layout" img copy -q --all "docker://$LAB_HTTP/library/busybox:latest" "oci:$T_TMP/lay:bb"
is "skopeo reads the layout: the same index" "$(raw_digest "oci:$T_TMP/lay:bb")" "$LAB_DIGEST_BUSYBOX"
ok "skopeo copies every platform out of it" skopeo copy -q --all "oci:$T_TMP/lay:bb" "oci:$T_TMP/sk:bb"
ok "copy from the OCI layout to a registry" img copy -q --all "oci:$T_TMP/lay:bb" "$LAB_HTTP/$R/fromoci:1"
is "skopeo: the same index" "$(raw_digest --tls-verify=false "docker://$LAB_HTTP/$R/fromoci:1")" "$LAB_DIGEST_BUSYBOX"
ok "copy from skopeo's fixture layout" img copy -q "oci:$LAB_FIXTURES/layered:latest" "docker://$LAB_HTTP/$R/fix:1"
is "skopeo: the same digest" "$(sk_digest --tls-verify=false "docker://$LAB_HTTP/$R/fix:1")" "$LAB_DIGEST_LAYERED"

fails "a tag not in the layout" img copy "oci:$T_TMP/lay:nope" "$LAB_HTTP/$R/x:1"
like "says so" "$LAST_OUT" "no image tagged 'nope' in '$T_TMP/lay'"
fails "an unknown transport" img copy "docker-daemon:alpine:latest" "$LAB_HTTP/$R/x:1"
like "names it" "$LAST_OUT" "unsupported transport"
fails "a missing repository" img copy "$LAB_HTTP/$R/none:1" "oci:$T_TMP/none:x"
like "the registry's answer" "$LAST_OUT" "not found"
[ -e "$T_TMP/none" ]; is "no layout made for a failed copy" $? 1

# TLS, each side its own: without the config's insecure entry the
# plain-HTTP registry is reached only by the side told not to verify.
echo '{"http-timeout": 5, "http-retries": 0}' > "$IMGTOOL_CONFIG"
BB=library/busybox:latest
fails "plain HTTP is refused by default" img copy -q "$LAB_HTTP/$BB" "oci:$T_TMP/tls:a"
like "by the TLS handshake" "$LAST_OUT" "^imgtool: pull '$LAB_HTTP/$BB': tls: handshake"
ok "--src-tls-verify=false: the source is reached" \
  img copy -q --src-tls-verify=false "$LAB_HTTP/$BB" "oci:$T_TMP/tls:a"
fails "--src-tls-verify=false: the destination is still verified" \
  img copy -q --src-tls-verify=false "$LAB_HTTP/$BB" "$LAB_HTTP/$R/tls:1"
like "the push's handshake fails" "$LAST_OUT" "^imgtool: push '$LAB_HTTP/$R/tls:1': tls: handshake"
fails "--dest-tls-verify=false: the source is still verified" \
  img copy -q --dest-tls-verify=false "$LAB_HTTP/$BB" "$LAB_HTTP/$R/tls:1"
like "the pull's handshake fails" "$LAST_OUT" "^imgtool: pull '$LAB_HTTP/$BB': tls: handshake"
fails "the last word wins: --tls-verify=false --dest-tls-verify=true" \
  img copy -q --tls-verify=false --dest-tls-verify=true "$LAB_HTTP/$BB" "$LAB_HTTP/$R/tls:1"
like "at the push" "$LAST_OUT" "^imgtool: push '$LAB_HTTP/$R/tls:1': tls: handshake"
ok "--tls-verify=false: both sides (with --jobs 1)" \
  img copy -q --tls-verify=false --jobs 1 "$LAB_HTTP/$BB" "$LAB_HTTP/$R/tls:1"
ok "--dest-tls-verify=false from an OCI layout" \
  img copy -q --dest-tls-verify=false "oci:$T_TMP/tls:a" "$LAB_HTTP/$R/tls:2"
is "skopeo: the amd64 manifest both times" \
  "$(sk_digest --tls-verify=false "docker://$LAB_HTTP/$R/tls:1"; sk_digest --tls-verify=false "docker://$LAB_HTTP/$R/tls:2")" \
  "$LAB_DIGEST_BUSYBOX_AMD64"$'\n'"$LAB_DIGEST_BUSYBOX_AMD64"
done_testing
