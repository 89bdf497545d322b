#!/bin/bash
# RUN --mount: every mount type (bind, cache, tmpfs, secret, ssh), what
# goes into the step's cache key (definitions and bind sources' content,
# never a cache's or a secret's content), that no mount point and no
# secret reaches a layer, the store or the output, and builder prune.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture busybox in the store" test -f "$IMGTOOL_ROOT/oci/index.json"
bf () { mkdir -p "$T_TMP/$1"; cat > "$T_TMP/$1/Buildfile"; }
ran () { grep -A1 '^STEP' <<< "$1" | grep '^-->' | sed 's/^--> //; s/^[0-9.]*s.*/ran/' | tr '\n' ' '; }
# the paths of every layer of an image, one per line
layer_paths () {
  local d
  for d in $(img inspect "$1" | jq -r '.[0].Manifest.layers[].digest'); do
    tar -tzf "$IMGTOOL_ROOT/oci/blobs/sha256/${d#sha256:}"
  done | sed 's|^\./||; s|/$||' | sort -u
}

# --- type=cache ---------------------------------------------------------------
# doc:mount-cache
bf cache <<'EOF2'
FROM busybox
ARG N=1
RUN --mount=type=cache,target=/root/.cache/pip \
    echo "run $N" >> /root/.cache/pip/log && cat /root/.cache/pip/log > /seen
EOF2
out=$(img build -t cache "$T_TMP/cache" 2>&1); rc=$?
is "a cache mount builds" "$rc" 0
is "... the step saw the cache" "$(img run --rm cache cat /seen)" "run 1"
out=$(img build --build-arg N=2 -t cache "$T_TMP/cache" 2>&1)
is "a second build sees what the first left in the cache" "$(img run --rm cache cat /seen)" "run 1
run 2"
out=$(img build --build-arg N=2 -t cache "$T_TMP/cache" 2>&1)
is "the cache's content is not in the key: the same step is CACHED" "$(ran "$out")" "CACHED CACHED "
paths=$(layer_paths cache)
is "the cache mount's target is in no layer (nor its parents made for it)" \
  "$(grep -E '^root/.cache' <<< "$paths")" ""
ok "the cache is kept under <root>/cache/mounts" \
  bash -c "grep -rqs 'run 2' '$IMGTOOL_ROOT/cache/mounts'"

bf cache-opts <<'EOF2'
FROM busybox AS seed
RUN mkdir /seed && echo seeded > /seed/file
FROM busybox
RUN --mount=type=cache,id=c2,target=/c,uid=1000,gid=1001,mode=0700,sharing=locked,from=seed,source=/seed \
    stat -c '%u %g %a' /c > /owner && cat /c/file > /from
RUN --mount=type=cache,id=c2,target=/other,ro \
    ls /other > /ro-list && ! touch /other/x 2> /dev/null && echo ro > /ro
EOF2
out=$(img build -t cache-opts "$T_TMP/cache-opts" 2>&1); rc=$?
is "cache with id, uid, gid, mode, sharing=locked, from and source" "$rc" 0
is "... a new cache gets uid, gid and mode" "$(img run --rm cache-opts cat /owner)" "1000 1001 700"
is "... and from=, source= as its first content" "$(img run --rm cache-opts cat /from)" seeded
is "the same id elsewhere is the same directory; ro is read-only" \
  "$(img run --rm cache-opts cat /ro-list /ro)" "file
ro"
fails "sharing takes shared, private or locked" \
  bash -c "printf 'FROM busybox\nRUN --mount=type=cache,target=/c,sharing=x true\n' | '$IMGTOOL' build -f - '$T_TMP/cache'"

# doc:builder-prune
out=$(img builder prune 2>&1)
like "builder prune removes the cache mounts" "$out" "and [1-9][0-9]* cache mounts"
is "... none is left" "$(find "$IMGTOOL_ROOT/cache/mounts" -mindepth 1 -maxdepth 1 -type d | wc -l)" 0
out=$(img build --build-arg N=3 -t cache "$T_TMP/cache" 2>&1)
is "... so the next build starts with an empty cache" "$(img run --rm cache cat /seen)" "run 3"
img builder prune -a > /dev/null
out=$(img build --build-arg N=3 -t cache "$T_TMP/cache" 2>&1)
is "builder prune -a: every step runs again" "$(ran "$out")" "ran "

# --- type=secret --------------------------------------------------------------
# doc:mount-secret
SECRET="s3cr3t-$RANDOM-$RANDOM-value"
printf %s "$SECRET" > "$T_TMP/secret.txt"
bf secret <<'EOF2'
FROM busybox
RUN --mount=type=secret,id=tok \
    test "$(cat /run/secrets/tok)" = "$(cat /expected)" 2>/dev/null || \
    { stat -c '%a %u %g' /run/secrets/tok > /mode; wc -c < /run/secrets/tok > /len; }
RUN --mount=type=secret,id=tok,target=/root/.npmrc,mode=0440,uid=7,gid=8 \
    stat -c '%a %u %g' /root/.npmrc > /mode2 && wc -c < /root/.npmrc > /len2
RUN --mount=type=secret,id=tok,env=TOKEN sh -c 'test -n "$TOKEN" && echo ${#TOKEN} > /len3'
RUN --mount=type=secret,id=missing ls /run/secrets > /list 2>/dev/null; true
RUN --mount=type=secret,id=tok awk '$5 == "/run/secrets/tok" { for (i = 6; i <= NF; i++) if ($i == "-") print $4, $(i + 1) }' /proc/self/mountinfo > /fstype
EOF2
out=$(img build --secret id=tok,src="$T_TMP/secret.txt" -t secret "$T_TMP/secret" 2>&1); rc=$?
is "secret mounts build" "$rc" 0 || echo "$out" | sed 's/^/#   /'
is "default target /run/secrets/<id>, mode 0400, root's" "$(img run --rm secret cat /mode /len)" "400 0 0
${#SECRET}"
is "target, mode, uid, gid" "$(img run --rm secret cat /mode2 /len2)" "440 7 8
${#SECRET}"
is "env= gives it as a variable" "$(img run --rm secret cat /len3)" "${#SECRET}"
is "a secret not given and not required: no file" "$(img run --rm secret cat /list)" ""
# (its root in its file system is /0: a tmpfs of the step's own, not a
# file somewhere in the store's directory, even when /tmp is a tmpfs)
is "the secret file is on a tmpfs of its own (never on a disk)" "$(img run --rm secret cat /fstype)" "/0 tmpfs"
paths=$(layer_paths secret)
is "no secret file or mount point in any layer" "$(grep -E '^(run|root/.npmrc)' <<< "$paths")" ""
is "the secret's bytes are in no file of the store" \
  "$(grep -rlaF "$SECRET" "$IMGTOOL_ROOT" 2>/dev/null; for f in "$IMGTOOL_ROOT"/oci/blobs/sha256/*; do
      (zcat -f "$f" 2>/dev/null || zstdcat "$f" 2>/dev/null) | grep -qaF "$SECRET" && echo "$f"; done)" ""
is "... nor in the build's output" "$(grep -cF "$SECRET" <<< "$out")" 0
printf %s "other-$SECRET" > "$T_TMP/secret.txt"
out=$(img build --secret id=tok,src="$T_TMP/secret.txt" -t secret "$T_TMP/secret" 2>&1)
is "a changed secret value: still CACHED (not in the key)" "$(ran "$out")" "CACHED CACHED CACHED CACHED CACHED "
TOKENVAR=$SECRET
export TOKENVAR
out=$(img build --secret id=tok,env=TOKENVAR --no-cache -t secret "$T_TMP/secret" 2>&1)
is "--secret id=X,env=VAR" "$(img run --rm secret cat /len2)" "${#SECRET}"
bf secret-req <<'EOF2'
FROM busybox
RUN --mount=type=secret,id=need,required true
EOF2
out=$(img build -t r "$T_TMP/secret-req" 2>&1); rc=$?
is "a required secret not given fails" "$rc" 1
like "... saying which" "$out" "secret 'need' is required"
fails "--secret with a file that does not exist" img build --secret id=x,src=/nonexistent -t r "$T_TMP/secret"
out=$(img build --secret id=bad -t r "$T_TMP/secret" 2>&1)
like "--secret id=X alone with no variable X fails" "$out" "environment variable 'bad' is not set"

# --- type=bind ----------------------------------------------------------------
# doc:mount-bind
mkdir -p "$T_TMP/bind/src"
echo v1 > "$T_TMP/bind/src/data"
bf bind <<'EOF2'
FROM busybox AS build
RUN mkdir /out && echo built > /out/app
FROM busybox
RUN --mount=type=bind,from=build,source=/out,target=/in cp /in/app /app
RUN --mount=target=/ctx,source=src cat /ctx/data > /data && ! touch /ctx/x 2>/dev/null
RUN --mount=type=bind,source=src,target=/w,rw echo scribble > /w/data && cat /w/data > /rw
EOF2
out=$(img build -t bind "$T_TMP/bind" 2>&1); rc=$?
is "bind mounts build" "$rc" 0
is "from a stage" "$(img run --rm bind cat /app)" built
is "from the context (the default type), read-only" "$(img run --rm bind cat /data)" v1
is "rw: writable in the step" "$(img run --rm bind cat /rw)" scribble
is "... and the context is untouched" "$(cat "$T_TMP/bind/src/data")" v1
paths=$(layer_paths bind)
is "no mount point in a layer" "$(grep -E '^(in|ctx|w)$' <<< "$paths")" ""
echo v2 > "$T_TMP/bind/src/data"
out=$(img build -t bind "$T_TMP/bind" 2>&1)
is "a bind source's content is in the key" "$(ran "$out" | cut -d' ' -f3-)" "ran ran "
is "... the new content" "$(img run --rm bind cat /data)" v2

# --- type=tmpfs and ssh -------------------------------------------------------
# doc:mount-tmpfs
bf tmpfs <<'EOF2'
FROM busybox
RUN --mount=type=tmpfs,target=/scratch,size=1m \
    awk '$2 == "/scratch" {print $3}' /proc/mounts > /t && echo x > /scratch/f && df -k /scratch | awk 'NR==2{print $2}' > /size
EOF2
out=$(img build -t tmpfs "$T_TMP/tmpfs" 2>&1); rc=$?
is "a tmpfs mount" "$rc:$(img run --rm tmpfs cat /t /size)" "0:tmpfs
1024"
is "... nothing of it in the layer" "$(layer_paths tmpfs | grep -c '^scratch')" 0

# doc:mount-ssh
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
' "$T_TMP/agent.sock"
bf ssh <<'EOF2'
FROM busybox
RUN --mount=type=ssh stat -c %F "$SSH_AUTH_SOCK" > /hello; echo "$SSH_AUTH_SOCK" > /sock
EOF2
out=$(SSH_AUTH_SOCK="$T_TMP/agent.sock" img build --ssh default -t ssh "$T_TMP/ssh" 2>&1); rc=$?
is "an ssh mount forwards the agent socket" "$rc:$(img run --rm ssh cat /hello /sock)" "0:socket
/run/buildkit/ssh_agent.0"
is "... nothing of it in the layer" "$(layer_paths ssh | grep -c '^run/buildkit')" 0
fails "--ssh default without SSH_AUTH_SOCK" env -u SSH_AUTH_SOCK "$IMGTOOL" build --ssh default -t ssh "$T_TMP/ssh"
out=$(img build -t ssh2 --no-cache "$T_TMP/ssh" 2>&1)
is "an ssh mount without --ssh (not required): the step runs without it" "$?" 0

# --- errors ------------------------------------------------------------------
bf bad <<'EOF2'
FROM busybox
RUN --mount=type=nfs,target=/x true
EOF2
out=$(img build -t bad "$T_TMP/bad" 2>&1)
like "an unknown type is refused, naming the line" "$out" "Buildfile:2: RUN --mount 'type=nfs,target=/x': unknown mount type 'nfs'"
printf 'FROM busybox\nRUN --mount=type=cache,target=/ true\n' > "$T_TMP/bad/Buildfile"
like "target / is refused" "$(img build -t bad "$T_TMP/bad" 2>&1)" "invalid mount target '/'"
printf 'FROM busybox\nRUN --mount=type=bind,target=/x,foo=1 true\n' > "$T_TMP/bad/Buildfile"
like "an unknown key is refused" "$(img build -t bad "$T_TMP/bad" 2>&1)" "unknown key 'foo'"

done_testing
