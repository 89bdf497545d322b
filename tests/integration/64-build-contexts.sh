#!/bin/bash
# Build contexts that are not a directory: `-` with a Buildfile or a tar
# (plain, gzip, zstd) on stdin, a tar file, an http(s) URL of a tar (a
# local http.server on 127.0.0.1, in the tests' private network).
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture busybox in the store" test -f "$IMGTOOL_ROOT/oci/index.json"
mkdir -p "$T_TMP/ctx/sub"
echo hello > "$T_TMP/ctx/sub/file"
cat > "$T_TMP/ctx/Buildfile" <<'EOF2'
FROM busybox
COPY sub/file /file
EOF2
cat > "$T_TMP/ctx/Other" <<'EOF2'
FROM busybox
COPY sub /other/
EOF2
tar -C "$T_TMP/ctx" -cf "$T_TMP/ctx.tar" .
gzip -c "$T_TMP/ctx.tar" > "$T_TMP/ctx.tar.gz"
zstd -q -c "$T_TMP/ctx.tar" > "$T_TMP/ctx.tar.zst"

# doc:context-stdin
out=$(printf 'FROM busybox\nRUN echo from-stdin > /s\n' | img build -t s1 - 2>&1); rc=$?
is "build - with a Buildfile on stdin" "$rc:$(img run --rm s1 cat /s)" "0:from-stdin"
out=$(printf 'FROM busybox\nCOPY x /x\n' | img build -t s1 - 2>&1); rc=$?
is "... its context is empty: COPY finds nothing" "$rc" 1
for f in ctx.tar ctx.tar.gz ctx.tar.zst; do
  out=$(img build -t "s-$f" - < "$T_TMP/$f" 2>&1); rc=$?
  is "build - with a tar on stdin ($f)" "$rc:$(img run --rm "s-$f" cat /file)" "0:hello"
done
out=$(img build -f Other -t s2 - < "$T_TMP/ctx.tar.gz" 2>&1); rc=$?
is "-f names a Buildfile inside the tar" "$rc:$(img run --rm s2 cat /other/file)" "0:hello"
out=$(img build -f - -t s3 - < /dev/null 2>&1); rc=$?
is "-f - with - as the context is refused" "$rc:$out" "1:imgtool: stdin cannot be both the build context and the Buildfile"

# doc:context-tar
out=$(img build -t t1 "$T_TMP/ctx.tar.gz" 2>&1); rc=$?
is "a tar file as the context" "$rc:$(img run --rm t1 cat /file)" "0:hello"
ls "$IMGTOOL_ROOT/tmp" | grep -c '^context-' > "$T_TMP/n"
is "... its unpacked copy is gone after the build" "$(cat "$T_TMP/n")" 0
echo 'not a tar' > "$T_TMP/bad.tar"
fails "a file that is not a tar fails" img build -t t2 "$T_TMP/bad.tar"

# doc:context-url
mkdir -p "$T_TMP/www" && cp "$T_TMP/ctx.tar.gz" "$T_TMP/www/"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -m http.server -b 127.0.0.1 -d "$T_TMP/www" "$port" > /dev/null 2>&1 &
web=$!
trap 'kill $web 2>/dev/null' EXIT
for _ in $(seq 100); do /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break; sleep 0.1; done
out=$(img build -t u1 "http://127.0.0.1:$port/ctx.tar.gz" 2>&1); rc=$?
is "an http URL of a tar as the context" "$rc:$(img run --rm u1 cat /file)" "0:hello"
out=$(img build -t u2 "http://127.0.0.1:$port/missing.tar" 2>&1); rc=$?
like "a URL that answers 404 fails, naming it" "$out" "build context 'http://127.0.0.1:$port/missing.tar'"

# --- ADD <URL> ------------------------------------------------------------------
# doc:add-url
echo "remote content" > "$T_TMP/www/remote.txt"
touch -d '2020-01-02 03:04:05 UTC' "$T_TMP/www/remote.txt"
sum=$(sha256sum "$T_TMP/www/remote.txt" | cut -c1-64)
mkdir -p "$T_TMP/add"
cat > "$T_TMP/add/Buildfile" <<EOF2
FROM busybox
ADD http://127.0.0.1:$port/remote.txt /dl/
ADD --checksum=sha256:$sum http://127.0.0.1:$port/remote.txt /named
RUN stat -c '%a %u %Y' /dl/remote.txt /named > /meta
EOF2
ran () { grep -A1 '^STEP' <<< "$1" | grep '^-->' | sed 's/^--> //; s/^[0-9.]*s.*/ran/' | tr '\n' ' '; }
out=$(img build -t addurl "$T_TMP/add" 2>&1); rc=$?
is "ADD of an http URL (into a dir, to a name; --checksum matching)" "$rc:$(img run --rm addurl cat /dl/remote.txt /named)" "0:remote content
remote content"
is "... mode 0600, root's, the mtime of Last-Modified" "$(img run --rm addurl cat /meta)" "600 0 1577934245
600 0 1577934245"
out=$(img build -t addurl "$T_TMP/add" 2>&1)
is "the same URL and answer: CACHED" "$(ran "$out")" "CACHED CACHED CACHED "
touch -d '2021-01-02 03:04:05 UTC' "$T_TMP/www/remote.txt"
out=$(img build -t addurl "$T_TMP/add" 2>&1)
is "a new Last-Modified (same bytes) is a miss: it is in the key" "$(ran "$out")" "ran ran ran "
sed -i "s/sha256:$sum/sha256:$(printf '0%.0s' $(seq 64))/" "$T_TMP/add/Buildfile"
out=$(img build -t addurl "$T_TMP/add" 2>&1); rc=$?
like "ADD --checksum that does not match fails" "$rc:$out" "^1:.*checksum mismatch: expected sha256:0000"
printf 'FROM busybox\nADD --checksum=sha256:%s sub/file /x\n' "$sum" > "$T_TMP/ctx/Bad"
out=$(img build -f "$T_TMP/ctx/Bad" -t x "$T_TMP/ctx" 2>&1)
like "--checksum with a local source fails" "$out" "--checksum needs http\(s\) sources"
printf 'FROM busybox\nCOPY http://127.0.0.1:%s/remote.txt /x\n' "$port" > "$T_TMP/ctx/Bad"
like "COPY of a URL fails" "$(img build -f "$T_TMP/ctx/Bad" -t x "$T_TMP/ctx" 2>&1)" "COPY does not take URLs"

# --- ADD of bzip2 and xz archives ---------------------------------------------------
# doc:add-bzip2-xz
mkdir -p "$T_TMP/arch/src" "$T_TMP/archctx"
echo in-bz2-xz > "$T_TMP/arch/src/f"
tar -C "$T_TMP/arch" -cjf "$T_TMP/archctx/a.tar.bz2" src
tar -C "$T_TMP/arch" -cJf "$T_TMP/archctx/a.tar.xz" src
echo plain | xz > "$T_TMP/archctx/notatar.xz"
cat > "$T_TMP/archctx/Buildfile" <<'EOF2'
FROM busybox
ADD a.tar.bz2 /bz/
ADD a.tar.xz /xz/
ADD notatar.xz /raw/
EOF2
out=$(img build -t arch "$T_TMP/archctx" 2>&1); rc=$?
is "ADD extracts bzip2 and xz tars" "$rc:$(img run --rm arch cat /bz/src/f /xz/src/f)" "0:in-bz2-xz
in-bz2-xz"
is "... and copies an xz file that is no tar as it is" "$(img run --rm arch sh -c 'xzcat /raw/notatar.xz')" plain

done_testing
