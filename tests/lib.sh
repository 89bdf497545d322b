# Sourced by every tests/integration/NN-*.sh script: TAP output, a private
# store per script, and the lab's addresses. Each check prints ok/not ok.
#
#   ok "what" command args...      passes if the command exits 0
#   fails "what" command args...   passes if the command exits non-zero
#   is "what" "$got" "$want"       passes if the strings are equal
#   like "what" "$got" 'regex'     passes if got matches the ERE
#   skip "why"                     counts as skipped
#   kill_recorded_containers       kill what the store's records name (EXIT trap)
set -u
# A script run on its own in the host's network namespace re-runs itself in
# a private one (lo up): containers get bridge networking by default, and
# tests never touch the host's interfaces or firewall. tests/run.sh makes
# one namespace for all scripts and the lab; a lab outside it is out of
# reach from here, so run the scripts that need one through tests/run.sh.
if [ -z "${IMGTOOL_TESTS_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
   [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ] &&
   unshare -n true 2>/dev/null; then
  IMGTOOL_TESTS_NETNS=1 exec unshare -n bash -c \
    'ip link set lo up && unset LAB_ENV && exec bash "$0" "$@"' "$0" "$@"
fi
_t_n=0
_t_failed=0
IMGTOOL=${IMGTOOL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/imgtool}
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
T_TMP=$(mktemp -d /tmp/imgtool-it.XXXXXX)
export IMGTOOL_ROOT="$T_TMP/root"
export IMGTOOL_CONFIG="$T_TMP/config.json"
export DOCKER_CONFIG="$T_TMP/docker"
export REGISTRY_AUTH_FILE="$T_TMP/auth.json"
export XDG_RUNTIME_DIR="$T_TMP/xdg"
mkdir -p "$XDG_RUNTIME_DIR"
# shellcheck disable=SC1090
[ -n "${LAB_ENV:-}" ] && [ -f "$LAB_ENV" ] && . "$LAB_ENV"

_t_report () { # status, description
  _t_n=$((_t_n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $_t_n - $2"
  else
    echo "not ok $_t_n - $2"
    _t_failed=$((_t_failed + 1))
  fi
}

ok () {
  local what=$1; shift
  local out
  out=$("$@" 2>&1); local rc=$?
  _t_report $rc "$what"
  [ $rc -eq 0 ] || { echo "#   command: $*"; echo "$out" | tail -15 | sed 's/^/#   /'; }
  return $rc
}

fails () {
  local what=$1; shift
  local out
  out=$("$@" 2>&1); local rc=$?
  if [ $rc -ne 0 ]; then _t_report 0 "$what"; else
    _t_report 1 "$what"; echo "#   command succeeded: $*"; echo "$out" | tail -5 | sed 's/^/#   /'
  fi
  LAST_OUT=$out
  [ $rc -ne 0 ]
}

is () {
  if [ "$2" = "$3" ]; then _t_report 0 "$1"; else
    _t_report 1 "$1"; echo "#   got:  '$2'"; echo "#   want: '$3'"
  fi
}

like () {
  if [[ "$2" =~ $3 ]]; then _t_report 0 "$1"; else
    _t_report 1 "$1"; echo "#   got:  '$2'" | head -20; echo "#   want match: '$3'"
  fi
}

unlike () {
  if ! [[ "$2" =~ $3 ]]; then _t_report 0 "$1"; else
    _t_report 1 "$1"; echo "#   got:  '$2'" | head -20; echo "#   want no match: '$3'"
  fi
}

skip () {
  _t_n=$((_t_n + 1))
  echo "ok $_t_n # skip $1"
}

# Run imgtool with the test's private store.
img () { "$IMGTOOL" "$@"; }

# Kill every container of the store whose record names a pid (for an EXIT
# trap: a failed check may leave some running).
kill_recorded_containers () {
  local s p
  for s in "$IMGTOOL_ROOT"/containers/*/state.json; do
    [ -f "$s" ] || continue
    p=$(jq -r '.pid // 0' "$s" 2>/dev/null)
    [ "${p:-0}" -gt 1 ] 2>/dev/null && kill -9 "$p" 2>/dev/null
  done
}

done_testing () {
  echo "1..$_t_n"
  # before the store goes with T_TMP: an EXIT trap would find no record
  kill_recorded_containers
  cd /
  rm -rf "$T_TMP" 2>/dev/null
  [ "$_t_failed" -eq 0 ]
}
