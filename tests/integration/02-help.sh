#!/bin/bash
# Every command listed by `imgtool --help`: `CMD --help` prints its usage on
# stdout and exits 0; an unknown option gives one line on stderr, nothing
# on stdout, and exit 2 (125 for run and exec, as docker).
. "$(dirname "$0")/../lib.sh"

# Commands whose file another developer is changing: their known defects
# are skipped (with the reason) while they last, and checked once fixed.
# Remove an entry when its fix is merged.
declare -A help_todo=()
declare -A badopt_todo=()

cmds=$(img --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
n=$(echo "$cmds" | wc -w)
like "imgtool --help lists the commands" "$n" '^(1[5-9]|[2-9][0-9])$'
for want in pull push build run exec version; do
  like "imgtool --help lists $want" " $(echo $cmds) " " $want "
done

for c in $cmds; do
  out=$(img "$c" --help 2>/dev/null); rc=$?
  if [ $rc -eq 0 ] && [[ "$out" =~ ^usage:\ imgtool\ $c ]]; then
    _t_report 0 "$c --help: usage on stdout, exit 0"
  elif [ -n "${help_todo[$c]:-}" ]; then
    skip "$c --help: ${help_todo[$c]}"
  else
    _t_report 1 "$c --help: usage on stdout, exit 0"
    echo "#   exit $rc, stdout: '$(echo "$out" | head -2)'"
  fi

  want=2
  case $c in run | exec | create) want=125 ;; esac
  err=$(img "$c" --no-such-option 2>&1 >/dev/null); rc=$?
  out=$(img "$c" --no-such-option 2>/dev/null)
  lines=$(printf '%s\n' "$err" | wc -l)
  if [ $rc -eq $want ] && [ "$lines" -eq 1 ] && [ -z "$out" ] \
     && [[ "$err" =~ ^imgtool:\ .*no-such-option ]]; then
    _t_report 0 "$c --no-such-option: one line naming it, exit $want"
  elif [ -n "${badopt_todo[$c]:-}" ] && [ $rc -eq $want ]; then
    skip "$c --no-such-option: ${badopt_todo[$c]}"
  else
    _t_report 1 "$c --no-such-option: one line naming it, exit $want"
    echo "#   exit $rc, stderr ($lines lines): '$(echo "$err" | head -3)'"
  fi
done

# The message says what was wrong with the option, not only that it was.
like "a missing value is named" "$(img push -j 2>&1)" \
  "^imgtool: push: option '-j' needs a value"
like "a value given to a flag that takes none is named" "$(img images --help=1 2>&1)" \
  "^imgtool: images: option '--help' takes no value"
like "an unknown short option is named" "$(img ps -z 2>&1)" \
  "^imgtool: ps: unknown option '-z'"
like "a global option too" "$(img --no-such-option 2>&1)" \
  "^imgtool: unknown option '--no-such-option'; see 'imgtool --help'$"
img --no-such-option >/dev/null 2>&1
# doc:exit-2
is "a bad global option exits 2" "$?" 2
# Long options are matched exactly, never by a prefix (glibc's getopt_long
# would take "--priv" for --privileged). Every long option any command has
# (from the option tables in cmd/, cmd/opttable.h), cut short, is refused by every command
# and by the global options, naming what was typed.
src="$TESTS_DIR/../cmd"
# every command's table (docs/options.md's words), and the global options
names=$( (img help --markdown | grep -oE '`--[a-z][a-z0-9-]*`' | sed 's/^`--//; s/`$//'
  grep -ohE '"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$src"/*.c |
  sed -E 's/^"([^"]*)".*/\1/') | sort -u)
like "the option tables are found" "$(echo $names | wc -w)" '^([4-9][0-9]|[1-9][0-9][0-9])$'
declare -A full=()
for o in $names; do full[$o]=1; done
prefixes=()
for o in $names; do
  p=${o%?}
  while [ -n "$p" ] && [ -n "${full[$p]:-}" ]; do p=${p%?}; done
  [ -n "$p" ] && prefixes+=("$p")
done
for c in "" $cmds; do
  want=2
  case $c in run | exec | create) want=125 ;; esac
  bad=""
  sub="" # their options follow a subcommand
  case $c in network | volume) sub=ls ;; system | builder) sub=prune ;; esac
  for p in "${prefixes[@]}"; do
    err=$(img $c $sub "--$p" </dev/null 2>&1 >/dev/null); rc=$?
    if [ $rc -ne $want ] || [[ "$err" != *"unknown option '--$p'"* ]] ||
       [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
      bad="$bad --$p (exit $rc: ${err:0:80})"
    fi
  done
  is "${c:-imgtool}${sub:+ $sub}: every abbreviated long option is refused, exit $want" "$bad" ""
done

like "run --priv IMAGE is refused, not --privileged" \
  "$(img run --priv busybox true 2>&1)" "^imgtool: run: unknown option '--priv'"
img run --priv busybox true >/dev/null 2>&1
is "with exit 125, as docker's flag errors" "$?" 125
like "run --pids host is refused, not --pids-limit (--pid is its own flag)" \
  "$(img run --pids host busybox true 2>&1)" "unknown option '--pids'"
like "an abbreviation with =value too" "$(img pull --platf=linux/amd64 x 2>&1)" \
  "^imgtool: pull: unknown option '--platf'"
like "a global option too" "$(img --roo /tmp images 2>&1)" "^imgtool: unknown option '--roo'"
ok "--flag=value works" img images --format='{{.ID}}'
ok "--flag value works" img images --format '{{.ID}}'
like "-- ends the options" "$(img rmi -- --priv 2>&1)" "^imgtool: .*'--priv'"
[[ "$(img rmi -- --priv 2>&1)" == *"unknown option"* ]]
is "so what follows is not an option" "$?" 1
like "--version still works" "$(img --version)" '^imgtool version '
done_testing
