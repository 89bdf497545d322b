#!/bin/bash
# Signed images and the trust policy (docs/security.md, supply chain).
# Debian's skopeo/podman have sigstore patched out, so the wire format is
# checked on its own: curl fetches the .sig manifest and its payload,
# openssl verifies the signature; the other way, a signature made here
# with openssl, curl and python3 must satisfy imgtool. skopeo still
# enforces the same policy file's reject and insecureAcceptAnything.
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_HTTP:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
PY=/usr/bin/python3
HELPERS=$(cd "$(dirname "$0")/../helpers" && pwd)
R=lab-check/sign-$$
H=$LAB_HTTP
echo "{\"insecure-registries\": [\"$H\"]}" > "$IMGTOOL_CONFIG"
# No policy or registries.d of the machine's user: a HOME of our own.
export HOME=$T_TMP/home
mkdir -p "$HOME" "$T_TMP/k"
unset COSIGN_PASSWORD
K=$T_TMP/k
MT_OCI=application/vnd.oci.image.manifest.v1+json

# Keys as openssl writes them.
openssl ecparam -name prime256v1 -genkey -noout -out "$K/ec.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/rsa.key" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$K/ed.key"
openssl ecparam -name prime256v1 -genkey -noout -out "$K/other.key"
for k in ec rsa ed other; do openssl pkey -in "$K/$k.key" -pubout -out "$K/$k.pub"; done

manifest_digest () { # REPO:TAG
  echo "sha256:$(curl -sf -H "Accept: $MT_OCI, application/vnd.oci.image.index.v1+json" \
    "http://$H/v2/${1%%:*}/manifests/${1#*:}" | sha256sum | cut -c1-64)"
}
sig_manifest () { # REPO DIGEST
  curl -sf -H "Accept: $MT_OCI" "http://$H/v2/$1/manifests/sha256-${2#sha256:}.sig"
}
# Fetch signature N of REPO@DIGEST into $T_TMP/payload and $T_TMP/sig.der.
fetch_sig () { # REPO DIGEST N
  local m; m=$(sig_manifest "$1" "$2") || return 1
  curl -sf "http://$H/v2/$1/blobs/$(jq -r ".layers[$3].digest" <<<"$m")" > "$T_TMP/payload"
  jq -r ".layers[$3].annotations[\"dev.cosignproject.cosign/signature\"]" <<<"$m" | base64 -d > "$T_TMP/sig.der"
}
# Upload a blob; prints its digest.
put_blob () { # REPO FILE
  local d loc
  d="sha256:$(sha256sum < "$2" | cut -c1-64)"
  loc=$(curl -sfi -X POST "http://$H/v2/$1/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
  case $loc in /*) loc="http://$H$loc" ;; esac
  case $loc in *\?*) loc="$loc&digest=$d" ;; *) loc="$loc?digest=$d" ;; esac
  curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "$loc" >/dev/null || return 1
  echo "$d"
}
# Store a .sig for DIGEST by hand: payload file, base64 signature.
put_sig () { # REPO DIGEST PAYLOAD SIG_B64
  local pd cd m
  pd=$(put_blob "$1" "$3") || return 1
  printf '{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":["%s"]},"config":{}}' "$pd" > "$T_TMP/sigcfg"
  cd=$(put_blob "$1" "$T_TMP/sigcfg") || return 1
  m=$($PY -c 'import json,sys,os
print(json.dumps({"schemaVersion":2,"mediaType":sys.argv[1],
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":os.path.getsize(sys.argv[2]),"digest":sys.argv[3]},
 "layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":os.path.getsize(sys.argv[4]),"digest":sys.argv[5],
   "annotations":{"dev.cosignproject.cosign/signature":sys.argv[6]}}]}))' \
    "$MT_OCI" "$T_TMP/sigcfg" "$cd" "$3" "$pd" "$4")
  curl -sf -X PUT -H "Content-Type: $MT_OCI" --data-binary "$m" \
    "http://$H/v2/$1/manifests/sha256-${2#sha256:}.sig" >/dev/null
}
make_payload () { # IDENTITY DIGEST > file
  printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' "$1" "$2"
}
blob_count () { ls "$IMGTOOL_ROOT/oci/blobs/sha256" 2>/dev/null | wc -l; }

# Images of our own: layered (one manifest) under several names, busybox
# (an index of two platforms).
for n in ec rsa ed enc app evil open unsigned other ident trunc wrongdig subst ext pushed regd gpg; do
  img copy -q "$H/library/layered:latest" "$H/$R/$n:1" >/dev/null || echo "# copy $n failed"
done
img copy -q --all "$H/library/busybox:latest" "$H/$R/multi:1" >/dev/null || echo "# copy multi failed"
img copy -q --all "$H/library/busybox:latest" "$H/$R/multi2:1" >/dev/null || echo "# copy multi2 failed"
D=$LAB_DIGEST_LAYERED

# --- sign: cosign's storage, checked with curl and openssl ------------------
ok "sign --key with an ECDSA P-256 key (openssl ecparam)" img sign --key "$K/ec.key" "$H/$R/ec:1"
m=$(sig_manifest "$R/ec" "$D")
is "a .sig manifest tagged sha256-<hex>.sig, OCI media type" "$(jq -r .mediaType <<<"$m")" "$MT_OCI"
is "its layer is the simple-signing payload" "$(jq -r '.layers[0].mediaType' <<<"$m")" \
  "application/vnd.dev.cosign.simplesigning.v1+json"
fetch_sig "$R/ec" "$D" 0
ok "openssl verifies the ECDSA signature over the payload blob" \
  openssl dgst -sha256 -verify "$K/ec.pub" -signature "$T_TMP/sig.der" "$T_TMP/payload"
is "the payload names the image's digest" "$(jq -r '.critical.image["docker-manifest-digest"]' "$T_TMP/payload")" "$D"
is "the identity is the repository without the tag (cosign's)" \
  "$(jq -r '.critical.identity["docker-reference"]' "$T_TMP/payload")" "$H/$R/ec"
is "cosign's type" "$(jq -r .critical.type "$T_TMP/payload")" "cosign container image signature"
is "the config's diff_ids name the payload" \
  "$(curl -sf "http://$H/v2/$R/ec/blobs/$(jq -r .config.digest <<<"$m")" | jq -r '.rootfs.diff_ids[0]')" \
  "$(jq -r '.layers[0].digest' <<<"$m")"

ok "sign with an RSA key" img sign --key "$K/rsa.key" "$H/$R/rsa:1"
fetch_sig "$R/rsa" "$D" 0
ok "openssl verifies the RSA signature" \
  openssl dgst -sha256 -verify "$K/rsa.pub" -signature "$T_TMP/sig.der" "$T_TMP/payload"
ok "sign with an Ed25519 key (podman's --sign-by-sigstore-private-key)" \
  img sign --sign-by-sigstore-private-key "$K/ed.key" "$H/$R/ed:1"
fetch_sig "$R/ed" "$D" 0
ok "openssl verifies the Ed25519 signature (pkeyutl -rawin)" \
  openssl pkeyutl -verify -pubin -inkey "$K/ed.pub" -rawin -in "$T_TMP/payload" -sigfile "$T_TMP/sig.der"
ok "signing again (Ed25519 is deterministic)" img sign --key "$K/ed.key" "$H/$R/ed:1"
is "the same signature is stored once" "$(sig_manifest "$R/ed" "$D" | jq '.layers | length')" 1

# --- cosign's encrypted keys, made with python3-nacl ---------------------
for label in "ENCRYPTED SIGSTORE PRIVATE KEY" "ENCRYPTED COSIGN PRIVATE KEY"; do
  for n in 32768 65536; do
    $PY "$HELPERS/cosign-key.py" "$K/ec.key" "$K/enc.key" "s3cret" "$n" "$label"
    ok "cosign key '$label' N=$n, COSIGN_PASSWORD" env COSIGN_PASSWORD=s3cret \
      "$IMGTOOL" sign --key "$K/enc.key" --sign-identity "$H/$R/enc-$n" "$H/$R/enc:1"
  done
done
m=$(sig_manifest "$R/enc" "$D")
is "four signatures, one per key file" "$(jq '.layers | length' <<<"$m")" 4
fetch_sig "$R/enc" "$D" 1
ok "openssl verifies what the encrypted key signed" \
  openssl dgst -sha256 -verify "$K/ec.pub" -signature "$T_TMP/sig.der" "$T_TMP/payload"
is "--sign-identity sets the payload's identity" \
  "$(jq -r '.critical.identity["docker-reference"]' "$T_TMP/payload")" "$H/$R/enc-65536"
echo s3cret > "$T_TMP/pass"
ok "--passphrase-file (skopeo's --sign-passphrase-file too)" \
  img sign --key "$K/enc.key" --sign-passphrase-file "$T_TMP/pass" "$H/$R/enc:1"
fails "a wrong passphrase" env COSIGN_PASSWORD=nope "$IMGTOOL" sign --key "$K/enc.key" "$H/$R/enc:1"
like "says so" "$LAST_OUT" "wrong passphrase"
fails "an invalid --sign-identity" img sign --key "$K/ec.key" --sign-identity "Not A Ref!" "$H/$R/ec:1"
like "says so" "$LAST_OUT" "--sign-identity 'Not A Ref!'"
fails "a key that is not a key" img sign --key "$K/ec.pub" "$H/$R/ec:1"
like "says so" "$LAST_OUT" "not a PEM private key"
img pull -q "$H/$R/app:1" >/dev/null
img tag "$H/$R/app:1" "$H/$R/localonly:1"
fails "sign an image only in the store" img sign --key "$K/ec.key" "$H/$R/localonly:1"
like "says to push first or push --sign-with" "$LAST_OUT" "push it first, or push it with 'imgtool push --sign-with KEY'"

ok "push --sign-with" img push -q --sign-with "$K/ec.key" "$H/$R/app:1" "$H/$R/pushed:2"
fetch_sig "$R/pushed" "$D" 0
ok "openssl verifies push's signature" \
  openssl dgst -sha256 -verify "$K/ec.pub" -signature "$T_TMP/sig.der" "$T_TMP/payload"

# --- verify ------------------------------------------------------------------
out=$(img verify --key "$K/ec.pub" "$H/$R/ec:1" 2>&1); rc=$?
is "verify: exit 0" "$rc" 0
is "verify prints the verified payload" "$(head -1 <<<"$out" | jq -r '.critical.image["docker-manifest-digest"]')" "$D"
out=$(img verify --key "$K/ec.pub" --format json "$H/$R/ec:1")
is "verify --format json: an array of payloads" "$(jq -r '.[0].critical.identity["docker-reference"]' <<<"$out")" "$H/$R/ec"
fails "verify with another key" img verify --key "$K/rsa.pub" "$H/$R/ec:1"
like "says another key" "$LAST_OUT" "another key"
fails "verify an unsigned image" img verify --key "$K/ec.pub" "$H/$R/unsigned:1"
like "says there is none" "$LAST_OUT" "no signatures found"

# The other way: a signature made with openssl, curl and python3.
make_payload "$H/$R/ext" "$D" > "$T_TMP/ext.json"
openssl dgst -sha256 -sign "$K/ec.key" -out "$T_TMP/ext.sig" "$T_TMP/ext.json"
ok "a hand-made .sig is stored" put_sig "$R/ext" "$D" "$T_TMP/ext.json" "$(base64 -w0 "$T_TMP/ext.sig")"
ok "imgtool verify accepts the openssl-made signature" img verify --key "$K/ec.pub" "$H/$R/ext:1"

# --- the policy ---------------------------------------------------------------
R2=lab-check/sign2-$$
img copy -q "$H/library/layered:latest" "$H/$R2/app:1" >/dev/null
P=$T_TMP/policy.json
cat > "$P" <<JSON
{"default":[{"type":"reject"}],
 "transports":{"docker":{
   "$H/$R": [{"type":"sigstoreSigned","keyPath":"$K/ec.pub","signedIdentity":{"type":"matchRepository"}}],
   "$H/$R/rsa": [{"type":"sigstoreSigned","keyPath":"$K/rsa.pub","signedIdentity":{"type":"matchRepository"}}],
   "$H/$R/ed": [{"type":"sigstoreSigned","keyData":"$(base64 -w0 "$K/ed.pub")","signedIdentity":{"type":"matchRepository"}}],
   "$H/$R/open": [{"type":"insecureAcceptAnything"}],
   "$H/$R/evil": [{"type":"reject"}],
   "$H/$R/gpg": [{"type":"signedBy","keyType":"GPGKeys","keyPath":"/dev/null"}],
   "$H/library": [{"type":"insecureAcceptAnything"}]}}}
JSON
fresh () { rm -rf "$T_TMP/fresh"; IMGTOOL_ROOT=$T_TMP/fresh "$IMGTOOL" "$@"; }
fresh_blobs () { ls "$T_TMP/fresh/oci/blobs/sha256" 2>/dev/null | wc -l; }

# doc:policy-verified
ok "pull of an image signed by the scope's key" fresh pull -q --signature-policy "$P" "$H/$R/ec:1"
sig=$(IMGTOOL_ROOT=$T_TMP/fresh "$IMGTOOL" inspect "$H/$R/ec:1" | jq -c '.[0].Signature')
is "inspect shows it was verified, and by which key" "$(jq -r '.Verified, .Key' <<<"$sig" | tr '\n' ' ')" "true $K/ec.pub "
is "... with the key's fingerprint" "$(jq -r .Fingerprint <<<"$sig")" \
  "sha256:$(openssl pkey -pubin -in "$K/ec.pub" -outform DER | sha256sum | cut -c1-64)"
ok "an RSA key's signature (keyPath)" fresh pull -q --signature-policy "$P" "$H/$R/rsa:1"
ok "an Ed25519 key's signature (keyData)" fresh pull -q --signature-policy "$P" "$H/$R/ed:1"
ok "a signature made by openssl, curl and python3" fresh pull -q --signature-policy "$P" "$H/$R/ext:1"
ok "a signature by push --sign-with" fresh pull -q --signature-policy "$P" "$H/$R/pushed:2"
ok "cosign's encrypted key's signature" fresh pull -q --signature-policy "$P" "$H/$R/enc:1"

# doc:policy-refusals
fails "an unsigned image is refused" fresh pull --signature-policy "$P" "$H/$R/unsigned:1"
like "no signature, and the scope" "$LAST_OUT" "refused by scope 'docker:$H/$R' of '$P': no signature: a signature is required, but $D has none"
is "nothing stored before the decision" "$(fresh_blobs)" 0
img sign --key "$K/other.key" "$H/$R/other:1" >/dev/null
fails "a signature by another key is refused" fresh pull --signature-policy "$P" "$H/$R/other:1"
like "another key" "$LAST_OUT" "scope 'docker:$H/$R'.*signed by another key"
is "nothing stored" "$(fresh_blobs)" 0
make_payload "$H/$R/wrongdig" "$LAB_DIGEST_BUSYBOX_AMD64" > "$T_TMP/wd.json"
openssl dgst -sha256 -sign "$K/ec.key" -out "$T_TMP/wd.sig" "$T_TMP/wd.json"
put_sig "$R/wrongdig" "$D" "$T_TMP/wd.json" "$(base64 -w0 "$T_TMP/wd.sig")"
fails "a signature for a different digest is refused" fresh pull --signature-policy "$P" "$H/$R/wrongdig:1"
like "names both digests" "$LAST_OUT" "the signature is for digest $LAB_DIGEST_BUSYBOX_AMD64, not $D"
img sign --key "$K/ec.key" "$H/$R/subst:1" >/dev/null
img copy -q "$H/library/busybox:latest" "$H/$R/subst:1" >/dev/null
fails "a substituted image under a signed tag is refused" fresh pull --signature-policy "$P" "$H/$R/subst:1"
like "no signature for the new digest" "$LAST_OUT" "no signature: a signature is required, but $LAB_DIGEST_BUSYBOX_AMD64 has none"
is "nothing stored" "$(fresh_blobs)" 0
fetch_sig "$R/ec" "$D" 0
head -c 40 "$T_TMP/sig.der" > "$T_TMP/trunc.der"
put_sig "$R/trunc" "$D" "$T_TMP/payload" "$(base64 -w0 "$T_TMP/trunc.der")"
fails "a truncated signature is refused" fresh pull --signature-policy "$P" "$H/$R/trunc:1"
like "malformed" "$LAST_OUT" "malformed signature \(truncated or garbage\)"
put_sig "$R/trunc" "$D" "$T_TMP/payload" "not base64!"
fails "a garbage signature is refused" fresh pull --signature-policy "$P" "$H/$R/trunc:1"
like "not base64" "$LAST_OUT" "the signature is not base64"
img sign --key "$K/ec.key" --sign-identity "$H/$R2/app" "$H/$R/ident:1" >/dev/null
fails "a payload naming another repository is refused" fresh pull --signature-policy "$P" "$H/$R/ident:1"
like "identity mismatch" "$LAST_OUT" "identity mismatch: signed identity '$H/$R2/app' is not accepted for '$H/$R/ident:1'"
fails "a reject scope" fresh pull --signature-policy "$P" "$H/$R/evil:1"
like "rejected, and the scope" "$LAST_OUT" "refused by scope 'docker:$H/$R/evil' of '$P': rejected by policy"
fails "the default scope (reject)" fresh pull --signature-policy "$P" "$H/$R2/app:1"
like "names the default" "$LAST_OUT" "refused by scope 'default'"
ok "an insecureAcceptAnything scope" fresh pull -q --signature-policy "$P" "$H/$R/open:1"
fails "signedBy (GPG) is not done: an error, never an acceptance" fresh pull --signature-policy "$P" "$H/$R/gpg:1"
like "says not supported" "$LAST_OUT" "signedBy \(GPG signatures\) is not supported"

# skopeo reads the same file: the same decisions for reject and insecureAcceptAnything.
fails "skopeo: the reject scope" skopeo --policy "$P" copy --src-tls-verify=false "docker://$H/$R/evil:1" "oci:$T_TMP/sk:evil"
like "skopeo says rejected" "$LAST_OUT" "rejected by policy"
fails "skopeo: the default reject" skopeo --policy "$P" copy --src-tls-verify=false "docker://$H/$R2/app:1" "oci:$T_TMP/sk:def"
ok "skopeo: the insecureAcceptAnything scope" skopeo --policy "$P" copy --src-tls-verify=false "docker://$H/$R/open:1" "oci:$T_TMP/sk:open"

# Index: a signature on the index digest or on the platform's digest.
ok "sign an index" img sign --key "$K/ec.key" "$H/$R/multi:1"
is "the .sig names the index digest" "$(sig_manifest "$R/multi" "$LAB_DIGEST_BUSYBOX" | jq '.layers | length')" 1
ok "pull of one platform: the index's signature is accepted" fresh pull -q --signature-policy "$P" "$H/$R/multi:1"
ok "sign only the platform's manifest" img sign --key "$K/ec.key" "$H/$R/multi2@$LAB_DIGEST_BUSYBOX_AMD64"
ok "pull of that platform: its own signature is accepted" fresh pull -q --signature-policy "$P" --platform linux/amd64 "$H/$R/multi2:1"
fails "another platform, unsigned, is refused" fresh pull --signature-policy "$P" --platform linux/arm64 "$H/$R/multi2:1"
ok "sign --recursive: the index and its children" img sign --recursive --key "$K/ec.key" "$H/$R/multi:1"
ok "... the arm64 manifest has a .sig" sig_manifest "$R/multi" "$LAB_DIGEST_BUSYBOX_ARM64"

# Where the policy comes from: the config key, then ~/.config/containers.
echo "{\"insecure-registries\": [\"$H\"], \"signature-policy\": \"$P\"}" > "$T_TMP/cfg-policy.json"
fails "the configuration's signature-policy" env IMGTOOL_CONFIG="$T_TMP/cfg-policy.json" IMGTOOL_ROOT="$T_TMP/fresh" "$IMGTOOL" pull "$H/$R/evil:1"
like "is enforced" "$LAST_OUT" "rejected by policy"
mkdir -p "$HOME/.config/containers"
cp "$P" "$HOME/.config/containers/policy.json"
fails "~/.config/containers/policy.json" fresh pull "$H/$R/evil:1"
like "is enforced" "$LAST_OUT" "refused by scope 'docker:$H/$R/evil' of '$HOME/.config/containers/policy.json'"
fails "a policy file named but missing" fresh pull --signature-policy "$T_TMP/none.json" "$H/$R/open:1"
like "is an error, not an acceptance" "$LAST_OUT" "signature policy '$T_TMP/none.json'"
echo '{"default":[{"type":"insecureAcceptAnything"}],"extra":1}' > "$T_TMP/bad.json"
fails "an unknown field makes the policy invalid" fresh pull --signature-policy "$T_TMP/bad.json" "$H/$R/open:1"
like "names it" "$LAST_OUT" "unknown field 'extra'"

# registries.d: use-sigstore-attachments: false for a scope -> no lookup.
img sign --key "$K/ec.key" "$H/$R/regd:1" >/dev/null
ok "registries.d true: the signature is found" fresh pull -q "$H/$R/regd:1"
mkdir -p "$HOME/.config/containers/registries.d"
printf 'docker:\n  %s/%s/regd:\n    use-sigstore-attachments: false\n' "$H" "$R" > "$HOME/.config/containers/registries.d/t.yaml"
fails "registries.d false: no .sig lookup, so no signature" fresh pull "$H/$R/regd:1"
like "says no signature" "$LAST_OUT" "no signature"
rm -rf "$HOME/.config"

# run --pull and build FROM enforce it too; an image in the store is not checked again.
fails "run --pull refused" img run --rm --network none --signature-policy "$P" "$H/$R/evil:1" true
like "rejected" "$LAST_OUT" "rejected by policy"
ok "an image pulled before the policy" img pull -q "$H/$R/evil:1"
is "run of an image already in the store is not checked again" \
  "$(img run --rm --network none --signature-policy "$P" "$H/$R/evil:1" echo ran 2>&1)" "ran"
mkdir -p "$T_TMP/ctx"; echo "FROM $H/$R/evil:1" > "$T_TMP/ctx/Buildfile"
fails "build FROM (--pull=always) refused" img build --pull=always --signature-policy "$P" -t "$H/$R/built:1" "$T_TMP/ctx"
like "rejected" "$LAST_OUT" "rejected by policy"

# copy carries the .sig along (skopeo copy's way); --remove-signatures drops it.
# doc:copy-signatures
ok "copy a signed image" img copy -q "$H/$R/ec:1" "$H/$R2/copied:1"
ok "its signature came along and verifies" img verify --key "$K/ec.pub" "$H/$R2/copied:1"
is "byte for byte" "$(sig_manifest "$R2/copied" "$D" | sha256sum)" "$(sig_manifest "$R/ec" "$D" | sha256sum)"
ok "copy --remove-signatures" img copy -q --remove-signatures "$H/$R/rsa:1" "$H/$R2/nosig:1"
fails "no .sig in the destination" sig_manifest "$R2/nosig" "$D"
fails "copy from a rejected source" img copy -q --signature-policy "$P" "$H/$R/evil:1" "$H/$R2/x:1"
like "names the scope" "$LAST_OUT" "refused by scope 'docker:$H/$R/evil'"
fails "nothing was pushed" curl -sf "http://$H/v2/$R2/x/manifests/1"

# load and copy from archives and layouts use their transport's scopes.
# doc:policy-transports
img save -o "$T_TMP/app.tar" "$H/$R/app:1" >/dev/null
img copy -q "$H/$R/app:1" "oci:$T_TMP/lay:app" >/dev/null
cat > "$T_TMP/ptr.json" <<JSON
{"default":[{"type":"insecureAcceptAnything"}],
 "transports":{"docker-archive":{"$T_TMP/app.tar":[{"type":"reject"}]},
               "oci-archive":{"$T_TMP/arch":[{"type":"reject"}]},
               "oci":{"$T_TMP/lay:app":[{"type":"reject"}]}}}
JSON
fails "load from an archive its scope rejects" fresh load --signature-policy "$T_TMP/ptr.json" -i "$T_TMP/app.tar"
like "names the archive's scope" "$LAST_OUT" "refused by scope 'docker-archive:$T_TMP/app.tar'"
is "nothing stored" "$(fresh_blobs)" 0
mkdir -p "$T_TMP/arch"; cp "$T_TMP/app.tar" "$T_TMP/arch/app.tar"; cp "$T_TMP/app.tar" "$T_TMP/ok.tar"
fails "an oci-archive scope of a parent directory" fresh load --signature-policy "$T_TMP/ptr.json" -i "$T_TMP/arch/app.tar"
like "names the directory's scope" "$LAST_OUT" "refused by scope 'oci-archive:$T_TMP/arch'"
ok "an archive outside those scopes loads" fresh load --signature-policy "$T_TMP/ptr.json" -i "$T_TMP/ok.tar"
sed -i 's/"oci-archive":{"[^"]*"/"oci-archive":{"\/nonexistent"/' "$T_TMP/ptr.json"
fails "copy from an OCI layout its scope (path:tag) rejects" img copy -q --signature-policy "$T_TMP/ptr.json" "oci:$T_TMP/lay:app" "$H/$R2/fromlay:1"
like "names the oci scope" "$LAST_OUT" "refused by scope 'oci:$T_TMP/lay:app'"

done_testing
