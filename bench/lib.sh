# Sourced by every bench/*.sh: times imgtool and its peers on the same work
# in the same run, interleaved round by round so machine noise falls on all
# sides alike, and reports medians, minimums, ratios and peak RSS.
#
#   bench_begin NAME "title"   start a measurement (clears the sides)
#   bench_side LABEL CMD...    add a side; CMD is a program or shell function
#   bench_measure              warm up, then BENCH_RUNS rounds; a side whose
#                              warm-up fails is dropped with its error shown
#   bench_report [BASE]        table "name median min ratio-vs-BASE peak-RSS"
#                              (BASE defaults to imgtool if it was measured,
#                              else the first side) and "BASE/x = r" lines
#   bench_ratio A B            one more line "A/B = r"
#   bench_delta A B            a line "A - B = +x ms" (medians)
#   bench_note TEXT            a line in the report (and the markdown)
#   bench_has LABEL            true if LABEL was measured
#
# Results also go, as markdown, to bench/out/NAME-DATE.md (gitignored), to be
# pasted into docs/performance.md. Absolute times drift between runs on
# shared machines: compare ratios within one run.
#
# Environment: BENCH_RUNS (default 20), BENCH_WARMUP (default 2),
# BENCH_OUT_DIR (default bench/out), BENCH_GAP (seconds of idle after each
# run, untimed; default 0: see bench/run.sh for why a benchmark wants one).

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
BENCH_RUNS=${BENCH_RUNS:-20}
BENCH_WARMUP=${BENCH_WARMUP:-2}
BENCH_GAP=${BENCH_GAP:-0}
BENCH_OUT_DIR=${BENCH_OUT_DIR:-$BENCH_DIR/out}

_bench_md () { printf '%s\n' "$*" >> "$BENCH_MD"; }

bench_begin () {
  BENCH_NAME=$1
  BENCH_TITLE=${2:-$1}
  _bench_labels=()
  _bench_cmds=()
  declare -gA _bench_times=() _bench_median=() _bench_min=() _bench_rss=() _bench_cmd_of=() _bench_said=()
  mkdir -p "$BENCH_OUT_DIR"
  BENCH_MD="$BENCH_OUT_DIR/$BENCH_NAME-$(date +%Y-%m-%d).md"
  local host
  host="$(nproc) cpus, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "== $BENCH_TITLE ($host; $BENCH_RUNS runs, medians; markdown to $BENCH_MD)"
  _bench_md ""
  _bench_md "### $BENCH_TITLE — $(date '+%Y-%m-%d %H:%M')"
  _bench_md ""
  _bench_md "$host; $BENCH_RUNS runs after $BENCH_WARMUP warm-up, interleaved, ${BENCH_GAP}s apart; commit $(git -C "$BENCH_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  _bench_md ""
}

bench_side () {
  local label=$1; shift
  _bench_labels+=("$label")
  _bench_cmds+=("$(printf '%q ' "$@")")
  _bench_cmd_of[$label]="$*"
}

bench_note () {
  echo "$*"
  _bench_md "$*  "
}

bench_has () { [ -n "${_bench_median[$1]:-}" ]; }

# Run side i once, discarding output; its stderr is kept in $_bench_err.
_bench_once () {
  eval "${_bench_cmds[$1]}" > /dev/null 2> "$_bench_err" < /dev/null
}

bench_measure () {
  local i r t0 t1 rc n=${#_bench_labels[@]} label live=()
  _bench_err=$(mktemp /tmp/imgtool-bench.XXXXXX)
  for ((i = 0; i < n; i++)); do
    label=${_bench_labels[i]}
    rc=0
    for ((r = 0; r < BENCH_WARMUP || r < 1; r++)); do
      _bench_once "$i" || { rc=$?; break; }
    done
    if [ "$rc" -ne 0 ]; then
      bench_note "$label: failed (exit $rc), left out: $(tail -3 "$_bench_err" | tr '\n' ' ')"
      continue
    fi
    live+=("$i")
    _bench_times[$label]=
  done
  for ((r = 0; r < BENCH_RUNS; r++)); do
    for i in "${live[@]}"; do
      label=${_bench_labels[i]}
      # Microseconds, read without forking (bash 5's EPOCHREALTIME; the
      # decimal separator depends on the locale).
      t0=${EPOCHREALTIME//[.,]/}
      _bench_once "$i"; rc=$?
      t1=${EPOCHREALTIME//[.,]/}
      if [ "$rc" -ne 0 ]; then
        echo "bench: $label failed in round $r (exit $rc): $(tail -3 "$_bench_err" | tr '\n' ' ')" >&2
        continue
      fi
      _bench_times[$label]+="$((t1 - t0)) "
      [ "$BENCH_GAP" = 0 ] || sleep "$BENCH_GAP"
    done
  done
  for i in "${live[@]}"; do
    label=${_bench_labels[i]}
    [ -n "${_bench_times[$label]}" ] || continue
    read -r "_bench_median[$label]" "_bench_min[$label]" < <(
      tr ' ' '\n' <<< "${_bench_times[$label]}" | grep . | sort -n | awk '
        { v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%.0f %d\n", m, v[1] }')
    _bench_rss[$label]=$(_bench_peak_rss "$i")
  done
  rm -f "$_bench_err"
}

# Peak RSS (KiB) of one more run under /usr/bin/time -v: the largest
# resident set of the command or any child it waited for. "-" for shell
# functions, which time cannot run.
_bench_peak_rss () {
  local argv
  eval "argv=(${_bench_cmds[$1]})"
  if [ "$(type -t "${argv[0]}")" != file ] || [ ! -x /usr/bin/time ]; then
    echo -; return
  fi
  /usr/bin/time -v "${argv[@]}" 2>&1 > /dev/null < /dev/null |
    awk -F': ' '/Maximum resident set size/ { print $2; found = 1 } END { if (!found) print "-" }'
}

_bench_ms () { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
_bench_div () { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), (b > 0 ? a / b : 0) }'; }

bench_ratio () {
  local a=$1 b=$2
  bench_has "$a" && bench_has "$b" || return 0
  [ -z "${_bench_said[$a/$b]:-}" ] || return 0
  _bench_said[$a/$b]=1
  bench_note "$a/$b = $(_bench_div "${_bench_median[$a]}" "${_bench_median[$b]}")"
}

bench_delta () {
  local a=$1 b=$2
  bench_has "$a" && bench_has "$b" || return 0
  bench_note "$a - $b = $(awk -v a="${_bench_median[$a]}" -v b="${_bench_median[$b]}" 'BEGIN { printf "%+.1f", (a - b) / 1000 }') ms"
}

bench_report () {
  local base=${1:-} label rss
  if [ -z "$base" ]; then
    if bench_has imgtool; then base=imgtool; else
      for label in "${_bench_labels[@]}"; do bench_has "$label" && { base=$label; break; }; done
    fi
  fi
  [ -n "$base" ] || { bench_note "nothing was measured"; return 1; }
  printf '%-22s %10s %10s %14s %12s\n' name "median ms" "min ms" "ratio-vs-$base" "peak RSS KB"
  _bench_md "| name | median ms | min ms | ratio vs $base | peak RSS KiB | command |"
  _bench_md "|---|---:|---:|---:|---:|---|"
  for label in "${_bench_labels[@]}"; do
    bench_has "$label" || continue
    rss=${_bench_rss[$label]}
    printf '%-22s %10s %10s %14s %12s\n' "$label" \
      "$(_bench_ms "${_bench_median[$label]}")" "$(_bench_ms "${_bench_min[$label]}")" \
      "$(_bench_div "${_bench_median[$label]}" "${_bench_median[$base]}")" "$rss"
    _bench_md "| $label | $(_bench_ms "${_bench_median[$label]}") | $(_bench_ms "${_bench_min[$label]}") | $(_bench_div "${_bench_median[$label]}" "${_bench_median[$base]}") | $rss | \`${_bench_cmd_of[$label]}\` |"
  done
  _bench_md ""
  for label in "${_bench_labels[@]}"; do
    [ "$label" != "$base" ] && bench_has "$label" && bench_ratio "$base" "$label"
  done
}
