#!/bin/bash
# The command line itself: version, help, unknown commands, error format.
. "$(dirname "$0")/../lib.sh"

ok "version prints" img version
like "version text" "$(img version)" '^imgtool version [0-9]+\.[0-9]+'
v=$(img version)
like "doc:version-facts the git commit" "$v" $'\n Git commit: +([0-9a-f]{12}|unknown)'
like "the build date" "$v" $'\n Built: +[0-9]{4}-'
like "the compiler" "$v" $'\n Compiler: +(gcc|clang) '
like "OS/Arch" "$v" $'\n OS/Arch: +linux/(amd64|arm64)'
like "libcurl's version, as loaded" "$v" $'\n  libcurl +[0-9]+\.'
like "OpenSSL's" "$v" $'\n  libcrypto +OpenSSL 3'
like "libseccomp's" "$v" $'\n  libseccomp +2\.'
is "doc:version-format docker's template" "$(img version --format '{{.Client.Version}}')" \
  "$(img version --format '{{.Version}}')"
is "--format json is one JSON object" \
  "$(img version --format json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["Libraries"]["jansson"])')" "$(pkg-config --modversion jansson)"
like "--version is docker's one line" "$(img --version)" '^imgtool version [0-9.]+, build [0-9a-f]'
fails "version takes no argument" img version x
fails "an unknown command fails" img no-such-command
like "unknown command has one clear line" "$(img no-such-command 2>&1)" "^imgtool: unknown command 'no-such-command'"
ok "--help lists commands" img --help
like "--help mentions version" "$(img --help)" 'version'
# libcurl, libnftables and libcrypto are loaded only when a registry, the
# bridge network or OpenSSL's SHA-256 is used (lib/dynlib.h): a plain start
# must not map them.
is "a start does not load libcurl" \
  "$(LD_DEBUG=files img images 2>&1 | grep -c 'file=libcurl')" 0
is "nor libnftables" \
  "$(LD_DEBUG=files img images 2>&1 | grep -c 'file=libnftables')" 0
is "nor libcrypto" \
  "$(LD_DEBUG=files img images 2>&1 | grep -c 'file=libcrypto')" 0

# Without --config or IMGTOOL_CONFIG every reader uses the default file
# ($XDG_CONFIG_HOME/imgtool/config.json for a user), the network's too.
d="$T_TMP/user"
mkdir -p "$d/xdg/imgtool" "$d/root" "$d/run"
echo '{"default-network": {"subnet": "10.66.0.0/24"}}' > "$d/xdg/imgtool/config.json"
chmod -R a+rwX "$d"; chmod a+x "$T_TMP"
out=$(env -u IMGTOOL_CONFIG XDG_RUNTIME_DIR="$d/run" XDG_CONFIG_HOME="$d/xdg" IMGTOOL_ROOT="$d/root" \
  setpriv --reuid=65534 --regid=65534 --clear-groups "$IMGTOOL" network ls --format '{{.Name}} {{.Subnet}}' 2>&1)
like "the default config file gives the network's subnet" "$out" '10\.66\.0\.0/24'
# An error is one short line whatever users or registries wrote into it:
# control characters escaped, long text cut with "…", long lists cut.
one_line () { # what, stderr
  local n; n=$(printf '%s' "$2" | tr -cd '\n\r' | wc -c)
  if [ "$n" -eq 0 ] && [ ${#2} -le 1100 ] && [[ "$2" == imgtool:* ]]; then
    _t_report 0 "$1"
  else
    _t_report 1 "$1"; echo "#   ${#2} chars, $n CR/LF: '${2:0:300}'"
  fi
}
err=$(img pull $'busybox\nINJECTED' 2>&1 >/dev/null)
one_line "a reference with a newline: one line" "$err"
like "the newline is shown escaped" "$err" "'busybox\\\\nINJECTED'"
err=$(img ps --format $'{{"a\rb}}' 2>&1 >/dev/null)
one_line "a template with a carriage return: one line" "$err"
like "shown escaped" "$err" 'a\\rb'
err=$(img images --format $'{{.ID}\n' 2>&1 >/dev/null)
one_line "a template with a newline: one line" "$err"
long=/$(head -c 100000 /dev/zero | tr '\0' a)
err=$(img run --rootfs "$long" true 2>&1 >/dev/null)
one_line "a 100 KB path: one short line" "$err"
like "cut in the middle, the reason kept" "$err" 'a…a.*: File name too long$'
err=$(img --root "$long/x" images 2>&1 >/dev/null)
one_line "a 100 KB --root: one short line" "$err"
# An index of 10,000 platforms (none the host's) in an OCI layout.
lay="$T_TMP/many"
mkdir -p "$lay/blobs/sha256"
/usr/bin/python3 - "$lay" <<'PY'
import hashlib, json, os, sys
lay = sys.argv[1]
ix = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
      "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                     "digest": "sha256:%064x" % i, "size": 2,
                     "platform": {"os": "linux", "architecture": "arch%d" % i}}
                    for i in range(10000)]}
body = json.dumps(ix).encode()
d = hashlib.sha256(body).hexdigest()
open(os.path.join(lay, "blobs/sha256", d), "wb").write(body)
open(os.path.join(lay, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{
    "mediaType": ix["mediaType"], "digest": "sha256:" + d, "size": len(body),
    "annotations": {"org.opencontainers.image.ref.name": "many"}}]},
    open(os.path.join(lay, "index.json"), "w"))
PY
err=$(img copy --dest-tls-verify=false "oci:$lay:many" 127.0.0.1:9/none/x:1 2>&1 >/dev/null)
one_line "an index of 10,000 platforms: one short line" "$err"
like "naming a few, then how many more" "$err" \
  'no matching manifest for linux/amd64.*available: linux/arch0, linux/arch1, linux/arch2, linux/arch3, linux/arch4 \(and 9995 more\)'
done_testing
