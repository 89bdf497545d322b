#!/bin/bash
# Benchmark: what signature verification adds to a pull (issue 17's
# budget: at most 20 ms on a pull of an image the store already has, at
# most 5% on a cold pull of the Debian image). The same pull, interleaved,
# under a policy that accepts anything and under one that requires the
# image's cosign signature (ECDSA P-256, matchRepository): the second
# fetches the .sig manifest and its payload and verifies them before any
# blob. From the lab's plain-HTTP registry.
#
#   bench/sign.sh            (needs the lab: tests/lab/up; LAB_ENV or
#                             tests/lab/run/env; debootstrap, umoci, skopeo)
#   BENCH_RUNS=10 bench/sign.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. "${LAB_ENV:-tests/lab/run/env}"
. bench/lib.sh
IMGTOOL=${IMGTOOL:-$PWD/build/imgtool}
W=$(mktemp -d /tmp/imgtool-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
export IMGTOOL_CONFIG=$W/config.json HOME=$W/home
mkdir -p "$HOME"
echo "{\"insecure-registries\": [\"$LAB_HTTP\"]}" > "$IMGTOOL_CONFIG"

. bench/fixtures.sh
bench_fixtures "$PWD/bench/out" "$W"

REF=$LAB_HTTP/bench-sign/debian:bookworm
"$IMGTOOL" --root "$W/seed" copy -q "$LAB_HTTP/bench/debian:bookworm" "$REF" >/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$W/k.key"
openssl pkey -in "$W/k.key" -pubout -out "$W/k.pub"
"$IMGTOOL" sign --key "$W/k.key" "$REF" >/dev/null
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$W/accept.json"
cat > "$W/signed.json" <<JSON
{"default":[{"type":"reject"}],"transports":{"docker":{"$LAB_HTTP/bench-sign":
  [{"type":"sigstoreSigned","keyPath":"$W/k.pub","signedIdentity":{"type":"matchRepository"}}]}}}
JSON

# In the store already: the pull only asks the registry for the digest.
"$IMGTOOL" --root "$W/warm" pull -q "$REF" >/dev/null
bench_begin sign-warm "pull of an image already in the store: policy accepting anything vs requiring a signature"
bench_side accept "$IMGTOOL" --root "$W/warm" pull -q --signature-policy "$W/accept.json" "$REF"
bench_side verified "$IMGTOOL" --root "$W/warm" pull -q --signature-policy "$W/signed.json" "$REF"
bench_measure
bench_report accept
bench_delta verified accept

# Cold: an empty store each time; the last one is moved aside (a rename),
# not deleted, inside the timing, and deleted at the end.
cold_n=0
cold () {
  cold_n=$((cold_n + 1))
  [ ! -d "$W/cold" ] || mv "$W/cold" "$W/trash.$cold_n"
  "$IMGTOOL" --root "$W/cold" pull -q --signature-policy "$1" "$REF"
}
cold_accept () { cold "$W/accept.json"; }
cold_verified () { cold "$W/signed.json"; }
BENCH_RUNS=${BENCH_COLD_RUNS:-7}
bench_begin sign-cold "cold pull of the Debian image: policy accepting anything vs requiring a signature"
bench_side accept cold_accept
bench_side verified cold_verified
bench_measure
bench_report accept
bench_delta verified accept
