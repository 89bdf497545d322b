#!/bin/bash
# imgtool help and imgtool completion: the completion script loaded in
# bash completes commands, a command's options, image names and container
# names, asking imgtool itself.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap kill_recorded_containers EXIT
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
img run --network none --name compl busybox true >/dev/null
bindir=$(dirname "$IMGTOOL")

complete_words () { # the words typed; completes the last
  PATH="$bindir:$PATH" bash -c 'source <(imgtool completion bash) || exit 1
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _imgtool; echo "${COMPREPLY[*]}"' _ "$@"
}
[ "$(basename "$IMGTOOL")" = imgtool ] || skip "the binary is not named imgtool"
is "doc:completion a command" "$(complete_words imgtool ru)" "run"
sorted () { tr ' ' '\n' | sort | tr '\n' ' '; }
is "several commands" "$(complete_words imgtool st | sorted)" "start stats stop "
like "a command's options" "$(complete_words imgtool run --dn)" "^--dns --dns-option --dns-search$"
is "an image name" "$(complete_words imgtool run bu)" "busybox:latest"
is "a container name" "$(complete_words imgtool logs com)" "compl"
is "after a global option" "$(complete_words imgtool --root "$R" ima | sorted)" "image images "
like "zsh's runs bash's through bashcompinit" "$(img completion zsh)" "bashcompinit"
like "fish's lists the commands" "$(img completion fish)" "complete -c imgtool .*-a '.*pull"
fails "an unknown shell" img completion tcsh
like "says which" "$LAST_OUT" "unknown shell 'tcsh'"
is "doc:help the commands" "$(img help)" "$(img --help)"
is "help CMD is CMD --help" "$(img help ps)" "$(img ps --help)"
fails "help of no such command" img help nosuch
is "exits 2" "$(img help nosuch >/dev/null 2>&1; echo $?)" 2

# man pages: make install puts them in PREFIX/share/man/man1 (DESTDIR too)
# (the sanitizer build's flags too: install builds first, and a commit since
# the last build rewrites version.h, so cmd/version.o is compiled again)
build_dir=$(basename "$(dirname "$IMGTOOL")")
san=0; [ "$build_dir" != build-san ] || san=1
make -s -C "$TESTS_DIR/.." install DESTDIR="$T_TMP/inst" PREFIX=/usr \
  BUILD="$build_dir" SAN=$san >/dev/null 2>&1
m="$T_TMP/inst/usr/share/man/man1"
ok "doc:man-pages imgtool(1) installed" test -f "$m/imgtool.1"
ok "and a page per command" test -f "$m/imgtool-run.1"
is "as many as commands, plus imgtool(1)" "$(ls "$m" | wc -l)" "$(( $(img --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/' | wc -l) + 1 ))"
warn=$(for f in "$m"/*.1; do LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null; done)
is "man --warnings finds nothing to say" "$warn" ""
like "imgtool-ps(1) has ps's usage" "$(man -l "$m/imgtool-ps.1" 2>/dev/null)" "imgtool ps \\[-a\\]"
img rm compl >/dev/null
done_testing
