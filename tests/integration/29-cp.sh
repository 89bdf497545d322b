#!/bin/bash
# cp and diff as a user meets them: docker's path rules, owners as
# docker's code gives them, -L, tar streams on "-", running and stopped
# containers, read-only roots and volumes; a container's symlinks never
# lead out of its root, whichever way the copy goes. diff's A/C/D lines,
# compared with podman's for the same actions where podman runs here.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap 'kill_recorded_containers; [ -n "${PEERS_DIR:-}" ] && peers_cleanup' EXIT
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
ok "fixture image in the store" img inspect busybox
IMG=busybox
NET="--network none"
H=$T_TMP/host
mkdir -p "$H/src/sub" "$H/out"
echo hello > "$H/src/a"; echo deep > "$H/src/sub/b"
chown 1234:5678 "$H/src/a"; chmod 640 "$H/src/a"
ln -s a "$H/src/link"

# a running container with links that point out of its root, if followed
# on the host: absolute, relative past the root, and to a dangling place
img run -d --name run $NET -u 1000:1000 $IMG sh -c \
  'ln -s /etc /tmp/escape; ln -s ../../../../../../../etc /tmp/up;
   ln -s /etc/hostname /tmp/hn; echo inside > /tmp/f; chown 1234:1234 /tmp/f;
   mkdir /tmp/d; echo x > /tmp/d/x; touch /tmp/ready; sleep 1000' >/dev/null
for _ in $(seq 600); do img exec run test -e /tmp/ready 2>/dev/null && break; sleep 0.1; done
cname=$(img exec run cat /etc/hostname)
# a file appeared in the container's /tmp/k (cp's partial work)
wait_for_file_in_k () {
  for _ in $(seq 600); do
    [ -n "$(img exec run ls -A /tmp/k 2>/dev/null)" ] && return 0; sleep 0.1
  done; return 1
}

# --- path rules -----------------------------------------------------------------
# doc:cp-rules
ok "a directory into an existing one goes in under its name" img cp "$H/src" run:/tmp/
is "  its files there" "$(img exec -u 0 run cat /tmp/src/a /tmp/src/sub/b | tr '\n' ' ')" "hello deep "
is "  a link stays a link" "$(img exec run readlink /tmp/src/link)" "a"
ok "SRC/. copies the contents only" img cp "$H/src/." run:/tmp/d
is "  into the directory itself" "$(img exec run ls /tmp/d | tr '\n' ' ')" "a link sub x "
ok "a directory to a new name becomes that directory" img cp "$H/src" run:/tmp/newdir
is "  with its contents" "$(img exec run cat /tmp/newdir/sub/b)" "deep"
ok "a file into a directory: under its name" img cp "$H/src/a" run:/tmp/d/sub/
ok "a file to a new name" img cp "$H/src/a" run:/tmp/renamed
is "  is that file" "$(img exec -u 0 run cat /tmp/renamed)" "hello"
echo changed > "$H/a2"
ok "a file over a file replaces it" img cp "$H/a2" run:/tmp/renamed
is "  with the new content" "$(img exec -u 0 run cat /tmp/renamed)" "changed"
fails "a file to a missing directory with a slash" img cp "$H/src/a" run:/tmp/nodir/
like "  says the directory must exist" "$LAST_OUT" "destination directory '/tmp/nodir/' must exist"
fails "parents are never created" img cp "$H/src/a" run:/tmp/no/such/file
fails "a directory onto a file" img cp "$H/src" run:/tmp/renamed
like "  says so" "$LAST_OUT" "cannot copy a directory to a file"
fails "a missing source in the container" img cp run:/tmp/nothing "$H/out/x"
like "  names it" "$LAST_OUT" "could not find the file '/tmp/nothing' in container 'run'"
fails "a container on both sides" img cp run:/a run:/b
fails "no container at all" img cp "$H/a2" "$H/a3"
fails "a container that does not exist" img cp "$H/a2" nosuch:/tmp
ok "out: a file" img cp run:/tmp/f "$H/out/f"
is "  its content" "$(cat "$H/out/f")" "inside"
ok "out: a directory into an existing one" img cp run:/tmp/d "$H/out"
is "  under its name" "$(cat "$H/out/d/x")" "x"
ok "a relative container path is from its root" img cp run:tmp/f "$H/out/rel"
is "  the same file" "$(cat "$H/out/rel")" "inside"

# --- owners (docker's code, lifecycle.md §9.6) -------------------------------------
# doc:cp-owners
is "in: the source's numeric owners are kept" "$(img exec run stat -c %u:%g /tmp/src/a)" "1234:5678"
is "in: and its mode" "$(img exec run stat -c %a /tmp/src/a)" "640"
ok "in -a" img cp -a "$H/src/a" run:/tmp/archived
is "in -a: the container's user owns it" "$(img exec run stat -c %u:%g /tmp/archived)" "1000:1000"
is "out: the caller owns what it writes" "$(stat -c %u:%g "$H/out/f")" "$(id -u):$(id -g)"

# --- links of the container stay in it ---------------------------------------------
# doc:cp-links-in-root
ok "out through an absolute link" img cp run:/tmp/escape/hostname "$H/out/hn1"
is "  is the container's file, not the host's" "$(cat "$H/out/hn1")" "$cname"
ok "out through a link climbing past the root" img cp run:/tmp/up/hostname "$H/out/hn2"
is "  stays in the container" "$(cat "$H/out/hn2")" "$cname"
ok "out: a link is copied as a link" img cp run:/tmp/hn "$H/out/hn3"
is "  its target as written" "$(readlink "$H/out/hn3")" "/etc/hostname"
ok "out -L: what the link names" img cp -L run:/tmp/hn "$H/out/hn4"
is "  the container's file" "$(cat "$H/out/hn4")" "$cname"
hostmark=$T_TMP/hostmark
ok "in through an absolute link to a directory" img cp "$H/a2" run:/tmp/escape/written
is "  lands in the container's /etc" "$(img exec run cat /etc/written)" "changed"
fails "  never the host's" test -e /etc/written
ok "in through a link climbing past the root" img cp "$H/a2" run:/tmp/up/written2
fails "  never the host's" test -e /etc/written2
img exec run ln -s "$hostmark" /tmp/dangling
fails "in onto a link to a host path: its place is not in the container" img cp "$H/a2" run:/tmp/dangling
fails "  the host path stays untouched" test -e "$hostmark"
ok "in -L: a local link's target" img cp -L "$H/src/link" run:/tmp/followed
is "  as a file under the link's name" "$(img exec -u 0 run cat /tmp/followed)" "hello"

# --- tar streams --------------------------------------------------------------------
is "out to -: a tar of the path under its name" \
  "$(img cp run:/tmp/d - | tar -t | sort | tr '\n' ' ')" "d/ d/a d/link d/sub/ d/sub/a d/sub/b d/x "
is "  with the bytes" "$(img cp run:/tmp/f - | tar -xO)" "inside"
tar -C "$H/src" -cf "$H/t.tar" sub
ok "in from -: a tar into a directory" img cp - run:/tmp < "$H/t.tar"
is "  extracted there" "$(img exec run cat /tmp/sub/b)" "deep"
gzip -c "$H/t.tar" > "$H/t.tgz"
ok "in from -: a compressed tar" img cp - run:/tmp/d < "$H/t.tgz"
is "  extracted too" "$(img exec run cat /tmp/d/sub/b)" "deep"
fails "in from - onto a file" img cp - run:/tmp/f < "$H/t.tar"
like "  says the extraction point is not a directory" "$LAST_OUT" "is not a directory"

# doc:cp-tar-owners: a tar on stdin keeps its owners; -a gives them to the
# container's user (docker's code: applyTarCopyUserOptions, not its docs)
tar -C "$H/src" --owner=4321 --group=8765 -cf "$H/own.tar" sub
img exec run mkdir /tmp/t1 /tmp/t2
ok "in from - as it is" img cp - run:/tmp/t1 < "$H/own.tar"
is "  the tar's owners are kept" "$(img exec run stat -c %u:%g /tmp/t1/sub/b)" "4321:8765"
ok "in from - with -a" img cp -a - run:/tmp/t2 < "$H/own.tar"
is "  the container's user owns the files" "$(img exec run stat -c %u:%g /tmp/t2/sub/b)" "1000:1000"
is "  and the directories" "$(img exec run stat -c %u:%g /tmp/t2/sub)" "1000:1000"

# --- kill -9 of cp halfway: no half-written file under its name ------------------
# doc:cp-kill9
mkdir -p "$H/big"; head -c 30000000 /dev/urandom > "$H/big/big"
tar -C "$H/big" -cf "$H/big.tar" big
img exec run mkdir /tmp/k
mkfifo "$H/fifo"
"$IMGTOOL" cp - run:/tmp/k < "$H/fifo" & cpid=$!
exec 7>"$H/fifo"
head -c 10000000 "$H/big.tar" >&7   # a third of it, and the pipe stays open
ok "cp is writing the file" wait_for_file_in_k
kill -9 "$cpid"; wait "$cpid" 2>/dev/null; exec 7>&-
fails "  no half-written file under its name" img exec run test -e /tmp/k/big
ok "  the container still runs" img exec run true
ok "  a new cp of the same tar works" img cp - run:/tmp/k < "$H/big.tar"
is "  with the whole file" "$(img exec run md5sum /tmp/k/big | cut -d' ' -f1)" "$(md5sum < "$H/big/big" | cut -d' ' -f1)"

# --- a stopped container ---------------------------------------------------------
img run --name stopped $NET $IMG sh -c 'echo was-here > /kept; rm /bin/ls; ln -s /etc /escape'
ok "out of a stopped container" img cp stopped:/kept "$H/out/kept"
is "  its file" "$(cat "$H/out/kept")" "was-here"
fails "a file it deleted stays deleted (whiteout)" img cp stopped:/bin/ls "$H/out/ls"
ok "into a stopped container" img cp "$H/a2" stopped:/bin/ls
# doc:cp-tar-owners: docker's daemon chowns only for a configured User
ok "-a into a container that runs as root" img cp -a - stopped:/ < "$H/own.tar"
is "  keeps the tar's owners" "$(img cp stopped:/sub/b - | tar --numeric-owner -tvf - | awk '{print $2}')" "4321/8765"
ok "  and back out" img cp stopped:/bin/ls "$H/out/ls2"
is "  the file it wrote" "$(cat "$H/out/ls2")" "changed"
ok "into a stopped one through its absolute link" img cp "$H/a2" stopped:/escape/stopped-written
fails "  not the host's /etc" test -e /etc/stopped-written
like "  its diff has it under /etc" "$(img diff stopped)" $'C /etc\nA /etc/stopped-written'
is "no mount is left behind" "$(grep -c "$R" /proc/self/mountinfo)" 0
is "nor its mount point" "$(ls "$R/containers/$(img inspect -f '{{.Id}}' stopped)" | grep -c '^cp-root')" 0

# --- read-only roots and volumes -----------------------------------------------------
mkdir -p "$T_TMP/vol" "$T_TMP/rovol"
img run -d --name ro $NET --read-only -v "$T_TMP/vol:/vol" -v "$T_TMP/rovol:/rovol:ro" $IMG sleep 1000 >/dev/null
# doc:cp-readonly
fails "a read-only root: cp in fails" img cp "$H/a2" ro:/tmp/x
like "  with docker's message" "$LAST_OUT" "container rootfs is marked read-only"
fails "a read-only volume: cp in fails" img cp "$H/a2" ro:/rovol/x
like "  with docker's message" "$LAST_OUT" "mounted volume is marked read-only"
ok "a writable volume of a read-only root takes it" img cp "$H/a2" ro:/vol/x
is "  in the volume's directory" "$(cat "$T_TMP/vol/x")" "changed"
img rm -f ro >/dev/null
img run --name rostop $NET --read-only $IMG true
fails "a stopped read-only container: cp in fails too" img cp "$H/a2" rostop:/x
is "  and nothing was written" "$(img diff rostop)" ""
img run --name volstop $NET -v "$T_TMP/vol:/vol" $IMG true
ok "a stopped container's volume" img cp "$H/src/a" volstop:/vol/from-stopped
is "  is written in the volume, not its layer" "$(cat "$T_TMP/vol/from-stopped")" "hello"
is "  (its diff stays empty)" "$(img diff volstop)" ""

# --- diff -------------------------------------------------------------------------------
ACT='echo x > /newfile; rm /bin/ls; mkdir -p /tmp/d/e; echo y >> /etc/passwd; rm -rf /home; mkdir /home; touch /home/z; chmod 700 /root'
img run --name df $NET $IMG sh -c "$ACT"
want='C /bin
D /bin/ls
C /etc/passwd
D /home
A /home/z
A /newfile
C /root
C /tmp
A /tmp/d
A /tmp/d/e'
# doc:diff-output
is "diff: A/C/D in docker's order" "$(img diff df)" "$want"
img run --name clean $NET $IMG true
is "diff: nothing for a container that changed nothing (the runtime's mount points are left out)" \
  "$(img diff clean)" ""
is "diff of a running container" "$(img diff run | grep -c '^A /tmp/renamed$')" 1
fails "diff of no such container" img diff nosuch
. "$TESTS_DIR/peers/env.sh"
if command -v podman >/dev/null && command -v crun >/dev/null && peers_env "$T_TMP/peers" &&
   peers_busybox_layout "$T_TMP/layout" latest &&
   peers_podman_load "$T_TMP/layout" latest docker.io/library/busybox:latest; then
  peers_podman run --name df --network=none busybox sh -c "$ACT" >/dev/null 2>&1
  # podman shows /etc changed by its own mount points in every container
  is "diff: the same as podman's for the same actions" \
    "$(img diff df)" "$(peers_podman diff df 2>&1 | grep -v '^C /etc$')"
else
  skip "podman does not run here"
fi

done_testing
