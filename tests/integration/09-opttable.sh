#!/bin/bash
# One option table per command (cmd/opttable.h): --help, `imgtool help`,
# the completion script and the man pages all come from it, and a flag
# takes --flag=false as docker's booleans do.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap kill_recorded_containers EXIT
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
bindir=$(dirname "$IMGTOOL")
[ "$(basename "$IMGTOOL")" = imgtool ] || skip "the binary is not named imgtool"
script="$T_TMP/completion.bash"
img completion bash > "$script"
table_opts () { # a command's options, as its table lists them (completion)
  PATH="$bindir:$PATH" bash -c 'source "$1"; _imgtool_opts "$2"' _ "$script" "$1"
}

cmds=$(img --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
for c in $cmds network\ create volume\ ls system\ prune; do
  opts=$(table_opts "$c")
  like "$c has a table (cmd/specs.c)" " $opts " " --help "
  help=$(img help $c 2>&1)
  missing=""
  for o in $opts; do
    # "  -x, --name ARG  help text": the option with its description
    printf '%s\n' "$help" | grep -qE -- "^  (-[a-zA-Z], |    )$o( [^ ]+)?  +[^ ]" ||
      missing="$missing $o"
  done
  is "$c --help lists each option of its table with its help" "$missing" ""
done
like "run's table is the whole of run's options" "$(table_opts run | wc -w)" '^[5-9][0-9]$'

# docs/options.md is made from the tables: it cannot drift from them
out=$(img help --markdown)
if [ "$out" = "$(cat "$TESTS_DIR/../docs/options.md")" ]; then
  _t_report 0 "doc:opt-docs docs/options.md is current"
else
  _t_report 1 "doc:opt-docs docs/options.md is current"
  echo "#   run: build/imgtool help --markdown > docs/options.md"
  diff <(printf '%s\n' "$out") "$TESTS_DIR/../docs/options.md" | head -5 | sed 's/^/#   /'
fi
# and docs/commands.md names no option that no table has: the global
# options, a Buildfile's COPY --chown and the examples of bad options aside
stray=$(grep -o -- '--[a-z][a-z0-9-]*[a-z0-9]' "$TESTS_DIR/../docs/commands.md" | sort -u |
  grep -v -x -e --root -e --config -e --debug -e --version -e --verbose -e --chown -e --priv -e --x -e --health |
  while read -r o; do grep -q -- "\`$o\`" "$TESTS_DIR/../docs/options.md" || echo "$o"; done)
is "doc:opt-docs-names docs/commands.md names only options the tables have" "$stray" ""
like "it lists run's --hostname with docker's flag" "$out" '\| `-h`, `--hostname` \| `NAME` \| `--hostname` \| Container host name \|'

is "doc:opt-help help run is run --help" "$(img help run)" "$(img run --help)"
is "help network create is network create's --help" \
  "$(img help network create)" "$(img network create --help 2>&1)"

# a prefix of a long option is an unknown option, whatever the command
like "stop --tim" "$(img stop --tim 1 x 2>&1)" "^imgtool: stop: unknown option '--tim'"
like "images --dig" "$(img images --dig 2>&1)" "^imgtool: images: unknown option '--dig'"
like "run --hostn" "$(img run --hostn x busybox true 2>&1)" "^imgtool: run: unknown option '--hostn'"
like "network create --sub" "$(img network create --sub 10.9.0.0/24 n 2>&1)" "unknown option '--sub'"

# doc:opt-bool --flag=false, --flag=true, as docker's booleans
is "run --detach=false runs in the foreground" \
  "$(img run --detach=false --rm --network none busybox echo fg)" "fg"
is "-d then --detach=false: the last wins" \
  "$(img run -d --detach=false --rm --network none busybox echo last)" "last"
is "--tty=false --interactive=false" \
  "$(img run --tty=false --interactive=false --rm --network none busybox echo notty)" "notty"
img run --rm=false --name keep --network none busybox true >/dev/null
like "--rm=false keeps the container" "$(img ps -a --format '{{.Names}}')" "keep"
img rm keep >/dev/null
like "short flags bundle: -dit" \
  "$(img run -dit --rm --network none busybox true)" '^[0-9a-f]{64}$'
ok "and a flag with its value last: ps -an1" img ps -an1
fails "--detach=maybe is refused" img run --detach=maybe busybox true
is "one line naming it" "$LAST_OUT" "imgtool: invalid --detach 'maybe': expected true or false"
img run --detach=maybe busybox true >/dev/null 2>&1
is "exit 125, as run's flag errors" "$?" 125
like "images --quiet=false prints the table, not the IDs alone" \
  "$(img images --quiet=false)" "^REPOSITORY"

# completion: an option only the table has (run's usage line names none)
complete_words () {
  PATH="$bindir:$PATH" bash -c 'source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _imgtool; echo "${COMPREPLY[*]}"' _ "$script" "$@"
}
is "doc:opt-completion run --hostn completes to --hostname" "$(complete_words imgtool run --hostn)" "--hostname"
is "a subcommand's options" "$(complete_words imgtool network create --sub)" "--subnet"
like "fish's has each option with its help" "$(img completion fish)" \
  "-n '__fish_seen_subcommand_from run' -l hostname -s h -r -d 'Container host name'"

# the man page of run: every option of run's table, with its help
make -s -C "$TESTS_DIR/.." install DESTDIR="$T_TMP/inst" PREFIX=/usr \
  BUILD="$(basename "$(dirname "$IMGTOOL")")" >/dev/null 2>&1
page=$(MANWIDTH=200 man -l "$T_TMP/inst/usr/share/man/man1/imgtool-run.1" 2>/dev/null)
missing=""
for o in $(table_opts run); do
  printf '%s\n' "$page" | grep -qE -- "(^|[ ,])$o( |$)" || missing="$missing $o"
done
is "doc:opt-man imgtool-run(1) has each run option" "$missing" ""
like "with its help text" "$page" "Container host name"
done_testing
