#!/bin/bash
# The command line itself: version, help, unknown commands, error format.
. "$(dirname "$0")/../lib.sh"

ok "version prints" img version
like "version text" "$(img version)" '^imgtool version [0-9]+\.[0-9]+'
fails "an unknown command fails" img no-such-command
like "unknown command has one clear line" "$(img no-such-command 2>&1)" "^imgtool: unknown command 'no-such-command'"
ok "--help lists commands" img --help
like "--help mentions version" "$(img --help)" 'version'
# libcurl and libnftables are loaded only when a registry or the bridge
# network is used (lib/dynlib.h): a plain start must not map them.
is "a start does not load libcurl" \
  "$(LD_DEBUG=files img version 2>&1 | grep -c 'file=libcurl')" 0
is "nor libnftables" \
  "$(LD_DEBUG=files img version 2>&1 | grep -c 'file=libnftables')" 0
done_testing
