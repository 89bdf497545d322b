#!/bin/bash
# Git sources: `build <git URL>` and `ADD <git URL> <dest>` through
# libgit2, against a repository made here with git and served by the test
# over smart http (git http-backend behind tests/fixtures/git-http.py on
# 127.0.0.1, in the tests' private network; libgit2 has no dumb http) and
# as a file:// URL: #branch, #tag, #commit, #ref:subdir, a
# missing ref, .git removed unless --keep-git-dir, the commit in the
# cache key.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
command -v git > /dev/null || { skip "git not installed"; done_testing; exit; }
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture busybox in the store" test -f "$IMGTOOL_ROOT/oci/index.json"

g () { git -C "$T_TMP/src" -c user.email=t@example.com -c user.name=t "$@"; }
serve () { # the bare copy the server answers from
  rm -rf "$T_TMP/www/repo.git"
  git clone -q --bare "$T_TMP/src" "$T_TMP/www/repo.git"
}
mkdir -p "$T_TMP/src/sub" "$T_TMP/www"
git init -q -b main "$T_TMP/src"
printf 'FROM busybox\nCOPY hello /hello\n' > "$T_TMP/src/Buildfile"
printf 'FROM busybox\nCOPY . /ctx/\n' > "$T_TMP/src/Whole"
printf 'FROM busybox\nCOPY f /f\n' > "$T_TMP/src/sub/Buildfile"
echo in-sub > "$T_TMP/src/sub/f"
ln -s /etc "$T_TMP/src/out"
echo v1 > "$T_TMP/src/hello"
g add . && g commit -qm one && g tag v1
c1=$(g rev-parse HEAD)
echo v2 > "$T_TMP/src/hello"
g commit -qam two
g checkout -q -b other && echo on-other > "$T_TMP/src/hello" && g commit -qam three && g checkout -q main
serve

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 "$TESTS_DIR/fixtures/git-http.py" "$port" "$T_TMP/www" > /dev/null 2>&1 &
web=$!
trap 'kill $web 2>/dev/null' EXIT
for _ in $(seq 100); do /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break; sleep 0.1; done
URL=http://127.0.0.1:$port/repo.git

# ---- the build context (doc:context-git)
# built TAG SPEC FILE: the build's status, then FILE of the image built
built () {
  img build -t "$1" "$2" > "$T_TMP/out" 2>&1
  echo "$?:$(img run --rm "$1" cat "$3" 2> /dev/null)"
}
is "a git URL over http: the remote's HEAD (main)" "$(built g0 "$URL" /hello)" "0:v2"
is "#tag" "$(built g1 "$URL#v1" /hello)" "0:v1"
is "#branch" "$(built g2 "$URL#other" /hello)" "0:on-other"
is "#commit" "$(built g3 "$URL#$c1" /hello)" "0:v1"
is "#ref:subdir: the subdirectory is the context" "$(built g4 "$URL#main:sub" /f)" "0:in-sub"
is "a file:// URL" "$(built g5 "file://$T_TMP/www/repo.git#v1" /hello)" "0:v1"
out=$(img build -f Whole -t g6 "$URL" 2>&1); rc=$?
is "the checkout has no .git" "$rc:$(img run --rm g6 sh -c 'ls -a /ctx | tr "\n" " "')" "0:. .. Buildfile Whole hello out sub "
out=$(img build -t g7 "$URL#nope" 2>&1); rc=$?
is "a missing ref: one clear error" "$rc:$out" "1:imgtool: build context '$URL#nope': git ref 'nope' not found"
out=$(img build -t g7 "$URL#main:../x" 2>&1); rc=$?
is "a subdir that climbs out is refused" "$rc:$out" "1:imgtool: build context '$URL#main:../x': subdirectory '../x' must be relative, without '..'"
out=$(img build -t g7 "$URL#main:out" 2>&1); rc=$?
is "a subdir that is a symlink out of the checkout is refused" "$rc:$out" "1:imgtool: build context '$URL#main:out': subdirectory 'out' leads out of the repository"
out=$(img build -t g7 "$URL#main:nosuch" 2>&1); rc=$?
like "a subdir that is not there fails, naming it" "$rc:$out" "^1:imgtool: build context '$URL#main:nosuch': subdirectory 'nosuch': "
out=$(img build -t g7 "http://127.0.0.1:$port/absent.git" 2>&1); rc=$?
like "a repository that is not there: one line naming it" "$rc:$out" "^1:imgtool: build context 'http://127.0.0.1:$port/absent.git': clone 'http://127.0.0.1:$port/absent.git': [^
]*$"
is "no checkout is left behind" "$(ls "$IMGTOOL_ROOT/tmp" | grep -c '^context-')" 0

# ---- ADD <git URL> (doc:add-git)
mkdir -p "$T_TMP/add"
cat > "$T_TMP/add/Buildfile" <<EOF2
FROM busybox
ADD $URL#v1 /tagged
ADD $URL#main:sub /sub/
ADD --keep-git-dir=true $URL /kept
ADD $URL /head
EOF2
ran () { grep -A1 '^STEP' <<< "$1" | grep '^-->' | sed 's/^--> //; s/^[0-9.]*s.*/ran/' | tr '\n' ' '; }
out=$(img build -t addgit "$T_TMP/add" 2>&1); rc=$?
is "ADD of git URLs: a tag, a subdir, HEAD" "$rc:$(img run --rm addgit cat /tagged/hello /sub/f /head/hello | tr '\n' ' ')" "0:v1 in-sub v2 "
is "... no .git unless --keep-git-dir=true" \
  "$(img run --rm addgit sh -c 'test -e /tagged/.git || test -e /head/.git || echo none; test -d /kept/.git/objects && echo kept')" "none
kept"
is "... root's files" "$(img run --rm addgit stat -c %u:%g /tagged/hello)" "0:0"
out=$(img build -t addgit "$T_TMP/add" 2>&1)
is "the same commits: CACHED" "$(ran "$out")" "CACHED CACHED CACHED CACHED "
echo v3 > "$T_TMP/src/hello"; g commit -qam four; serve
out=$(img build -t addgit "$T_TMP/add" 2>&1)
is "a new commit on main is a miss for each ADD of main: the commit is in the key" "$(ran "$out")" "CACHED ran ran ran "
is "... and its files are the new commit's" "$(img run --rm addgit cat /head/hello)" v3
printf 'FROM busybox\nADD %s#nope /x\n' "$URL" > "$T_TMP/add/Bad"
out=$(img build -f "$T_TMP/add/Bad" -t x "$T_TMP/add" 2>&1); rc=$?
like "ADD of a missing ref: an error naming it" "$rc:$out" "^1:.*ADD '$URL#nope': git ref 'nope' not found$"
printf 'FROM busybox\nADD --keep-git-dir=true Bad /x\n' > "$T_TMP/add/Bad2"
like "--keep-git-dir without a git source fails" "$(img build -f "$T_TMP/add/Bad2" -t x "$T_TMP/add" 2>&1)" "keep-git-dir needs a git source"
printf 'FROM busybox\nCOPY %s /x\n' "$URL" > "$T_TMP/add/Bad3"
like "COPY of a git URL fails" "$(img build -f "$T_TMP/add/Bad3" -t x "$T_TMP/add" 2>&1)" "COPY does not take URLs"

# ---- libgit2 is loaded only by what needs it (lib/dynlib.h)
is "imgtool is not linked against libgit2" "$(ldd "$IMGTOOL" | grep -c libgit2)" 0
done_testing
