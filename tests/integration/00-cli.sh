#!/bin/bash
# The command line itself: version, help, unknown commands, error format.
. "$(dirname "$0")/../lib.sh"

ok "version prints" img version
like "version text" "$(img version)" '^imgtool version [0-9]+\.[0-9]+'
fails "an unknown command fails" img no-such-command
like "unknown command has one clear line" "$(img no-such-command 2>&1)" "^imgtool: unknown command 'no-such-command'"
ok "--help lists commands" img --help
like "--help mentions version" "$(img --help)" 'version'
# libcurl, libnftables and libcrypto are loaded only when a registry, the
# bridge network or OpenSSL's SHA-256 is used (lib/dynlib.h): a plain start
# must not map them.
is "a start does not load libcurl" \
  "$(LD_DEBUG=files img version 2>&1 | grep -c 'file=libcurl')" 0
is "nor libnftables" \
  "$(LD_DEBUG=files img version 2>&1 | grep -c 'file=libnftables')" 0
is "nor libcrypto" \
  "$(LD_DEBUG=files img version 2>&1 | grep -c 'file=libcrypto')" 0

# Without --config or IMGTOOL_CONFIG every reader uses the default file
# ($XDG_CONFIG_HOME/imgtool/config.json for a user), the network's too.
d="$T_TMP/user"
mkdir -p "$d/xdg/imgtool" "$d/root"
echo '{"default-network": {"subnet": "10.66.0.0/24"}}' > "$d/xdg/imgtool/config.json"
chmod -R a+rwX "$d"; chmod a+x "$T_TMP"
out=$(env -u IMGTOOL_CONFIG XDG_CONFIG_HOME="$d/xdg" IMGTOOL_ROOT="$d/root" \
  setpriv --reuid=65534 --regid=65534 --clear-groups "$IMGTOOL" network ls 2>&1)
like "the default config file gives the network's subnet" "$out" '10\.66\.0\.0/24'
done_testing
