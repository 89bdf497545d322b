# Shared by tests/lab/up and tests/lab/down: paths, ports, PID bookkeeping.
# Sourced, not run.
LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)      # tests/lab
LAB_TOP=$(cd "$LAB_SRC/../.." && pwd)                        # the work tree
RUN=${LAB_RUN_DIR:-$LAB_SRC/run}
PIDS=$RUN/pids
PY=/usr/bin/python3            # Debian's python3 (has python3-cryptography)

# Ports: 5000..5006 unless LAB_PORT_BASE moves the whole block.
PORT_BASE=${LAB_PORT_BASE:-5000}
PORT_HTTP=$PORT_BASE
PORT_BASIC=$((PORT_BASE + 1))
PORT_TOKEN=$((PORT_BASE + 2))
PORT_TOKEN_SERVER=$((PORT_BASE + 3))
PORT_FAULT=$((PORT_BASE + 4))
PORT_FAULT_ALT=$((PORT_BASE + 5))    # the fault proxy's second listener (HTTP)
PORT_FAULT_TLS=$((PORT_BASE + 6))    # and its third (HTTPS)
SERVICES="http basic token tokenserver fault"

LAB_USER=tester
LAB_PASS='lab-Pass.1'
LAB_READER=reader
LAB_READER_PASS='lab-Read.2'
TOKEN_SERVICE=lab-registry
TOKEN_ISSUER=lab-token-server

say () { echo "lab: $*"; }
die () { echo "lab: ERROR: $*" >&2; exit 1; }

port_of () {
  case $1 in
    http) echo "$PORT_HTTP" ;; basic) echo "$PORT_BASIC" ;;
    token) echo "$PORT_TOKEN" ;; tokenserver) echo "$PORT_TOKEN_SERVER" ;;
    fault) echo "$PORT_FAULT" ;;
  esac
}

# The PID recorded for a service, if that process is alive and is ours (its
# command line names our run directory, so a recycled PID is not mistaken).
our_pid () {
  local f=$PIDS/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF " $RUN/" || return 1
  echo "$pid"
}

# Who listens on a TCP port of 127.0.0.1 (or any address): "pid=N cmd (cwd)".
port_owner () {
  local line pid
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -1)
  [ -n "$line" ] || return 1
  pid=$(echo "$line" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  if [ -n "$pid" ]; then
    echo "pid=$pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null | cut -c1-160)"
  else
    echo "$line"
  fi
}

# Stop one service by its recorded PID: TERM, wait up to 5 s, then KILL.
stop_service () {
  local name=$1 pid i
  if pid=$(our_pid "$name"); then
    kill "$pid" 2>/dev/null
    for i in $(seq 50); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    [ -d "/proc/$pid" ] && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$PIDS/$name.pid"
}

# A process listening on a lab port whose command line names our run
# directory, but whose PID file was lost: ours all the same. Prints the PID.
orphan_pid () { # port
  local pid
  pid=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF " $RUN/" || return 1
  echo "$pid"
}
stop_orphans () {
  local s pid i
  for s in $SERVICES; do
    if pid=$(orphan_pid "$(port_of "$s")"); then
      say "stopping $s (pid $pid), which lost its PID file"
      kill "$pid" 2>/dev/null
      for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
      [ -d "/proc/$pid" ] && kill -9 "$pid" 2>/dev/null
    fi
  done
}
