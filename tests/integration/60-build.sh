#!/bin/bash
# imgtool build as a user runs it: every instruction, the image config it
# writes, the build cache (hits, misses, --no-cache, prune), reproducible
# digests, errors (a failing RUN, a malformed Buildfile), multi-stage builds
# and --target, ONBUILD, -f -, interrupts, history. The base image is the
# fixture busybox made without imgtool (tests/fixtures/busybox-oci.sh).
# The same file trees as podman build: 61-build-peers.sh.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture busybox in the store" test -f "$IMGTOOL_ROOT/oci/index.json"
REPO=$(cd "$TESTS_DIR/.." && pwd)
cfg () { img inspect "$1" | jq -c ".[0].ImageConfig | $2"; }
bf () { mkdir -p "$T_TMP/$1"; cat > "$T_TMP/$1/Buildfile"; }

# --- Buildfile.example: a static site ----------------------------------------
out=$(cd "$REPO" && img build -t site:1 -f Buildfile.example . 2>&1); rc=$?
is "Buildfile.example builds" "$rc" 0
like "each step is numbered" "$out" "STEP 1/12: FROM \\$\\{BASE\\}"
like "a layer step says its time and size" "$out" "STEP 6/12: COPY --chown=www examples/site/ /srv/www/"$'\n'"--> [0-9.]+s, layer [0-9.]+k?B"
like "it ends with the image id" "$out" $'\n'"Successfully built [0-9a-f]{12}"$'\n'"Successfully tagged site:1$"
id1=$(sed -n 's/^Successfully built //p' <<< "$out")
is "the site is in the image" "$(img run --rm site:1 cat /srv/www/index.html | grep -c 'Hello from a container')" 1
is "owned by the --chown user" "$(img run --rm site:1 stat -c %U /srv/www/index.html)" www
is "RUN made build.html" "$(img run --rm site:1 sh -c 'cat build.html' | grep -c 'for port 8080')" 1
is "User, WorkingDir" "$(cfg site:1 '.config | [.User, .WorkingDir]')" '["www","/srv/www"]'
is "ExposedPorts from an ARG" "$(cfg site:1 .config.ExposedPorts)" '{"8080/tcp":{}}'
is "Env" "$(cfg site:1 .config.Env)" '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","PORT=8080"]'
is "Cmd" "$(cfg site:1 .config.Cmd)" '["sh","-c","exec httpd -f -p \"$PORT\" -h /srv/www"]'
is "Labels" "$(cfg site:1 '.config.Labels["org.opencontainers.image.title"]')" '"static site"'
is "Healthcheck" "$(cfg site:1 .config.Healthcheck)" \
  '{"Interval":30000000000,"Test":["CMD-SHELL","wget -q -O /dev/null http://127.0.0.1:${PORT}/ || exit 1"],"Timeout":3000000000}'
is "one history entry per layer" "$(cfg site:1 '[.history[] | select(.empty_layer != true)] | length')" \
  "$(cfg site:1 '.rootfs.diff_ids | length')"
is "metadata steps are empty_layer" "$(cfg site:1 '[.history[] | select(.created_by == "USER www") | .empty_layer]')" '[true]'
is "architecture and os" "$(cfg site:1 '[.os, .architecture != null]')" '["linux",true]'
is "the manifest is OCI with gzip layers" \
  "$(img inspect site:1 | jq -c '[.[0].Manifest.mediaType, (.[0].Manifest.layers[-1].mediaType)]')" \
  '["application/vnd.oci.image.manifest.v1+json","application/vnd.oci.image.layer.v1.tar+gzip"]'

# --- the cache ----------------------------------------------------------------
out=$(cd "$REPO" && img build -t site:1 -f Buildfile.example . 2>&1)
is "a second build: every step after FROM is CACHED" "$(grep -c '^--> CACHED$' <<< "$out")" 11
is "... and gives the same image" "$(sed -n 's/^Successfully built //p' <<< "$out")" "$id1"
like "-q prints only the image id" "$(cd "$REPO" && img build -q -t site:1 -f Buildfile.example .)" "^sha256:$id1[0-9a-f]{52}$"

mkdir -p "$T_TMP/c/src" && echo one > "$T_TMP/c/src/a" && echo keep > "$T_TMP/c/b"
bf c <<'EOF'
FROM busybox
RUN echo first > /first
COPY b /b
COPY src /src
RUN cat /src/a > /copy
ENV X=1
EOF
img build -q -t c "$T_TMP/c" > /dev/null
cid=$(img build -q -t c "$T_TMP/c")
touch "$T_TMP/c/src/a" "$T_TMP/c/b"
out=$(img build -t c "$T_TMP/c" 2>&1)
is "touching a copied file: still CACHED (mtimes are not in the key)" "$(grep -c '^--> CACHED$' <<< "$out")" 5
is "... same image" "sha256:$(sed -n 's/^Successfully built //p' <<< "$out")" "${cid:0:19}"
echo two > "$T_TMP/c/src/a"
out=$(img build -t c "$T_TMP/c" 2>&1)
steps=$(grep -A1 '^STEP' <<< "$out" | grep '^-->' | sed 's/^--> //; s/^[0-9.]*s.*/ran/' | tr '\n' ' ')
is "editing a copied file: a miss from that step on" "$steps" "CACHED CACHED ran ran "
is "... and the new content is there" "$(img run --rm c cat /copy)" two
out=$(img build --no-cache -t c "$T_TMP/c" 2>&1)
is "--no-cache: nothing CACHED" "$(grep -c CACHED <<< "$out")" 0
out=$(img build --build-arg UNUSED=1 -t c "$T_TMP/c" 2>&1)
is "a build arg no step declares changes nothing" "$(grep -c '^--> CACHED$' <<< "$out")" 5

bf arg <<'EOF'
FROM busybox
ARG V=1
RUN echo "$V" > /v
RUN echo "${HTTP_PROXY:-none}" > /proxy
EOF
img build -q -t arg "$T_TMP/arg" > /dev/null
is "ARG default" "$(img run --rm arg cat /v)" 1
out=$(img build --build-arg V=2 --build-arg HTTP_PROXY=http://proxy:3128 -t arg "$T_TMP/arg" 2>&1)
is "--build-arg overrides it (a miss)" "$(img run --rm arg cat /v)" 2
is "an undeclared proxy ARG reaches RUN" "$(img run --rm arg cat /proxy)" http://proxy:3128
is "... but not the history" "$(cfg arg '[.history[].created_by | select(test("proxy:3128"))] | length')" 0

# --- reproducible ---------------------------------------------------------------
d1=$(img build -q --no-cache --source-date-epoch 1700000000 -t r1 "$T_TMP/c")
d2=$(SOURCE_DATE_EPOCH=1700000000 img build -q --no-cache -t r2 "$T_TMP/c")
is "the same digest twice with --source-date-epoch / SOURCE_DATE_EPOCH and --no-cache" "$d1" "$d2"
is "created is the epoch" "$(cfg r1 .created)" '"2023-11-14T22:13:20Z"'
man1=$(img inspect r1 | jq -r '.[0].Digest'); man2=$(img inspect r2 | jq -r '.[0].Digest')
is "... and the same manifest" "$man1" "$man2"
d3=$(img build -q --no-cache -t r3 "$T_TMP/c")
[ "$d3" != "$d1" ]; ok "without an epoch, --no-cache makes a new image (created = now)" test $? = 0

# --- instructions -----------------------------------------------------------------
mkdir -p "$T_TMP/i/dir"; echo f > "$T_TMP/i/dir/f"; echo x > "$T_TMP/i/x"
(cd "$T_TMP/i" && mkdir t && echo in-tar > t/in && tar -czf arch.tgz -C t . && rm -r t)
bf i <<'END'
# syntax=docker/dockerfile:1
FROM busybox
MAINTAINER someone
SHELL ["/bin/sh", "-eu", "-c"]
RUN ["/bin/sh", "-c", "echo exec-form > /exec"]
RUN echo "shell: $0 $-" > /shell
COPY --chmod=0700 x /opt/x
COPY <<EOF /heredoc.txt
hello $HOSTNAME
EOF
ADD arch.tgz /unpacked/
RUN ln -s /opt /optlink
COPY x /optlink/through-link
ENV A=a \
    B="b c"
LABEL one=1 "two words"="2 2"
EXPOSE 80 53/udp
VOLUME ["/data", "/cache"]
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/bin/echo"]
WORKDIR rel
WORKDIR sub
ONBUILD RUN echo triggered > /onbuild
END
out=$(img build -t inst "$T_TMP/i" 2>&1); rc=$?
is "every instruction builds" "$rc" 0
[ $rc -eq 0 ] || echo "$out" | tail -5 | sed 's/^/#   /'
is "RUN exec form" "$(img run --rm --entrypoint cat inst /exec)" exec-form
like "SHELL is used by the shell form (set -u)" "$(img run --rm --entrypoint cat inst /shell)" "^shell: /bin/sh [a-z]*u"
is "SHELL in the config" "$(cfg inst .config.Shell)" '["/bin/sh","-eu","-c"]'
is "COPY --chmod" "$(img run --rm --entrypoint stat inst -c %a /opt/x)" 700
is "COPY heredoc" "$(img run --rm --entrypoint cat inst /heredoc.txt)" "hello "
is "ADD of a local tar archive extracts it" "$(img run --rm --entrypoint cat inst /unpacked/in)" in-tar
is "the destination's symlink is followed in the image" "$(img run --rm --entrypoint cat inst /opt/through-link)" x
is "ENV" "$(cfg inst '.config.Env[1:]')" '["A=a","B=b c"]'
is "LABEL" "$(cfg inst .config.Labels)" '{"one":"1","two words":"2 2"}'
is "EXPOSE" "$(cfg inst .config.ExposedPorts)" '{"53/udp":{},"80/tcp":{}}'
is "VOLUME" "$(cfg inst .config.Volumes)" '{"/cache":{},"/data":{}}'
is "STOPSIGNAL" "$(cfg inst .config.StopSignal)" '"SIGQUIT"'
is "MAINTAINER is the author" "$(cfg inst .author)" '"someone"'
is "ENTRYPOINT resets the base's CMD" "$(cfg inst '[.config.Entrypoint, .config.Cmd]')" '[["/bin/echo"],null]'
is "relative WORKDIRs add up, and are created" "$(img run --rm --entrypoint pwd inst)" /rel/sub
is "ONBUILD is stored" "$(cfg inst .config.OnBuild)" '["RUN echo triggered > /onbuild"]'
img run --rm inst a b > "$T_TMP/ep.out"
is "the image runs its ENTRYPOINT with args" "$(cat "$T_TMP/ep.out")" "a b"

printf 'FROM inst\nRUN cat /onbuild\n' | img build -q -t child -f - "$T_TMP/i" > /dev/null
is "ONBUILD runs in the child (and -f - reads stdin)" "$(img run --rm --entrypoint cat child /onbuild)" triggered
is "... and is not passed on" "$(cfg child .config.OnBuild)" null

bf cmd <<'EOF'
FROM busybox
CMD ["echo", "from-cmd"]
ENTRYPOINT ["/bin/sh", "-c", "exec \"$@\"", "--"]
EOF
img build -q -t cmdkeep "$T_TMP/cmd" > /dev/null
is "a CMD of the same stage stays with ENTRYPOINT" "$(img run --rm cmdkeep)" from-cmd

# --- scratch, zstd, COPY --from an image, --network none -----------------------
mkdir -p "$T_TMP/s" && cp /bin/busybox "$T_TMP/s/busybox"
bf s <<'EOF'
FROM scratch
COPY busybox /bin/busybox
COPY --from=busybox /etc/passwd /etc/passwd
CMD ["/bin/busybox", "cat", "/etc/passwd"]
EOF
img build -q --compression zstd -t scratchy "$T_TMP/s" > /dev/null
is "FROM scratch: two layers" "$(cfg scratchy '.rootfs.diff_ids | length')" 2
is "--compression zstd" "$(img inspect scratchy | jq -r '.[0].Manifest.layers[0].mediaType')" \
  application/vnd.oci.image.layer.v1.tar+zstd
like "COPY --from=image, and the image runs" "$(img run --rm scratchy)" "^root:x:0:0"

bf net <<'EOF'
FROM busybox
RUN ls /sys/class/net | tr '\n' ' ' > /nets
EOF
img build -q --network none -t netnone "$T_TMP/net" > /dev/null
is "--network none: only lo" "$(img run --rm netnone cat /nets)" "lo "
# The host's interfaces, listed over netlink (this shell's /sys was mounted
# in another netns), without containers' veths: the kernel removes a dead
# container's veth with its netns, a little later.
links () { grep -v '^imgv' | grep . | sort | tr '\n' ' '; }
host_links=$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | links)
like "the host side has more than lo (the bridge the runs above made)" "$host_links" 'imgtool0'
img build -q -t nethost "$T_TMP/net" > /dev/null
is "builds use the host's network by default" "$(img run --rm nethost cat /nets | tr ' ' '\n' | links)" \
  "$host_links"

# --- COPY and WORKDIR layers carry their parents --------------------------------
# As BuildKit's: each parent of what a layer adds is in it, with the owner
# and mode it has in the stage, else overlay shows a 0755 root directory
# over the image's (a non-root user could no longer write /tmp).
bf par <<'EOF'
FROM busybox
RUN mkdir -p /home/app && chown 1000:1000 /home/app && chmod 750 /home/app
COPY f.txt /tmp/
COPY f.txt /home/app/new/
WORKDIR /home/app/work
EOF
echo f > "$T_TMP/par/f.txt"
img build -q -t par "$T_TMP/par" > /dev/null
# "path mode uid:gid" of each entry of the image's layer N
layer_ls () {
  local d; d=$(img inspect "$1" | jq -r ".[0].Manifest.layers[$2].digest")
  /usr/bin/python3 -c 'import sys, tarfile
for m in tarfile.open(sys.argv[1]): print(m.name, oct(m.mode)[2:], "%d:%d" % (m.uid, m.gid))' \
    "$IMGTOOL_ROOT/oci/blobs/sha256/${d#sha256:}" | tr '\n' ' '
}
is "COPY f /tmp/: the layer has tmp/ as the image has it" "$(layer_ls par 2)" \
  "tmp 1777 0:0 tmp/f.txt 644 0:0 "
is "... and a non-root user can still write /tmp" \
  "$(img run --rm -u 65534 par sh -c 'touch /tmp/x && stat -c %a /tmp')" 1777
is "COPY into an existing dir: its owner and mode kept, new parents 0755 root" "$(layer_ls par 3)" \
  "home 755 0:0 home/app 750 1000:1000 home/app/new 755 0:0 home/app/new/f.txt 644 0:0 "
is "WORKDIR: the same" "$(layer_ls par 4)" "home 755 0:0 home/app 750 1000:1000 home/app/work 755 0:0 "
is "... and in the container" "$(img run --rm par stat -c '%u %a' /home/app)" "1000 750"

# --- multi-stage and --target ---------------------------------------------------
bf m <<'EOF'
ARG BASE=busybox
FROM ${BASE} AS build
RUN mkdir /out && echo artifact > /out/a
FROM build AS tested
RUN echo ok > /out/tested
FROM busybox
COPY --from=tested /out/ /opt/
RUN echo final > /final
EOF
out=$(img build -t multi "$T_TMP/m" 2>&1)
is "multi-stage: COPY --from a stage" "$(img run --rm multi cat /opt/a /opt/tested /final | tr '\n' ' ')" "artifact ok final "
out=$(img build -t multi-build --target build "$T_TMP/m" 2>&1)
like "--target builds only the stages it needs" "$out" "STEP 2/2: RUN mkdir /out"
is "--target's image" "$(img run --rm multi-build sh -c 'cat /out/a; ls /final 2>&1 | wc -l')" "artifact
1"
out=$(img build --target nosuch "$T_TMP/m" 2>&1); rc=$?
is "an unknown --target fails" "$rc" 1
like "... naming it" "$out" "target stage 'nosuch' could not be found"

# --- errors -----------------------------------------------------------------------
bf fail <<'EOF'
FROM busybox
RUN echo before
RUN echo failing; exit 3
RUN echo never
EOF
out=$(img build -t failed "$T_TMP/fail" 2>&1); rc=$?
is "a failing RUN fails the build" "$rc" 1
like "with the line, the command and the status" "$(tail -1 <<< "$out")" \
  "^imgtool: Buildfile:3: RUN 'echo failing; exit 3': exit status 3$"
is "the later steps did not run" "$(grep -c never <<< "$out")" 0
fails "nothing was tagged" img inspect failed
printf 'FROM busybox\nRUNN echo\n' > "$T_TMP/bad"
out=$(img build -f "$T_TMP/bad" "$T_TMP/fail" 2>&1); rc=$?
is "a malformed Buildfile fails" "$rc" 1
like "naming file:line" "$out" "^imgtool: $T_TMP/bad:2: unknown instruction 'RUNN'"
out=$(printf 'FROM busybox\nCOPY nothere /x\n' | img build -f - "$T_TMP/fail" 2>&1)
like "a missing COPY source is named" "$(tail -1 <<< "$out")" "^imgtool: -:2: COPY 'nothere': not found in the build context"
printf 'secret\n' > "$T_TMP/fail/.dockerignore"; echo s > "$T_TMP/fail/secret"
out=$(printf 'FROM busybox\nCOPY secret /x\n' | img build -f - "$T_TMP/fail" 2>&1)
like ".dockerignore hides a source" "$out" "excluded by .dockerignore"
out=$(printf 'FROM busybox\n' | img build - 2>&1); rc=$?
is "build - takes the Buildfile from stdin (more in 64-build-contexts)" "$rc" 0
out=$(printf 'FROM nosuchimage\n' | img build --pull=never -f - "$T_TMP/fail" 2>&1)
like "--pull=never with a missing base" "$out" "image 'nosuchimage' is not in the store"
out=$(printf 'FROM busybox\nUSER nobody-here\nRUN true\n' | img build -f - "$T_TMP/fail" 2>&1)
like "an unknown USER fails the RUN" "$out" "unable to find user nobody-here"

# --- interrupt: nothing mounted, nothing left -----------------------------------
bf slow <<'EOF'
FROM busybox
RUN echo started; sleep 6017
EOF
"$IMGTOOL" build -t slow "$T_TMP/slow" > "$T_TMP/slow.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^started' "$T_TMP/slow.out" && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
is "SIGINT stops the build with 130" "$rc" 130
like "... saying so" "$(cat "$T_TMP/slow.out")" "build interrupted"
is "no mount of the store is left" "$(grep -c "$IMGTOOL_ROOT" /proc/self/mountinfo)" 0
is "no build temp dir is left" "$(ls "$IMGTOOL_ROOT/tmp" | grep -c build-)" 0
is "no container process is left" "$(pgrep -f "sleep 6017" | wc -l)" 0

# --- kill -9 of a build: its RUN dies with it, the next command cleans up ------
# (as another user: the switch to it clears a parent-death signal)
bf killed <<'EOF'
FROM busybox
USER 65534
RUN echo started; sleep 6023
EOF
"$IMGTOOL" build -t killed "$T_TMP/killed" > "$T_TMP/killed.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^started' "$T_TMP/killed.out" && break; sleep 0.1; done
spids=$(pgrep -f "sleep 6023" | tr '\n' ' '); spid=${spids%% *}
# the step's cgroup, as the host sees it (v1: one dir per controller)
cgpath=$(grep -o 'imgtool/[0-9a-f]\{64\}' "/proc/${spid:-0}/cgroup" 2>/dev/null | head -1)
cg_dirs () { ls -d "/sys/fs/cgroup/$cgpath" /sys/fs/cgroup/*/"$cgpath" 2>/dev/null | wc -l; }
like "the RUN step runs in a cgroup of its own" "$cgpath" '^imgtool/[0-9a-f]{64}$'
kill -9 $pid; wait $pid 2>/dev/null
gone () { [ ! -d "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
for _ in $(seq 100); do gone "$spid" && break; sleep 0.1; done
ok "the RUN step's process died with the build" gone "$spid"
[ "$(cg_dirs)" -gt 0 ]; is "before the next command: its cgroups are there" $? 0
is "... and its temp dir" "$(ls "$IMGTOOL_ROOT/tmp" | grep -c '^build-')" 1
ok "the next command runs" img images
is "after it: no cgroup of the step" "$(cg_dirs)" 0
is "... no build temp dir" "$(ls "$IMGTOOL_ROOT/tmp" | grep -c '^build-')" 0
is "... no build record" "$(ls "$IMGTOOL_ROOT/builds" | wc -l)" 0
for p in $spids; do gone "$p" || kill -9 "$p"; done # (a failing run's)

# --- history, untagged, prune ---------------------------------------------------
out=$(img history site:1)
like "history: newest first, with sizes" "$(sed -n 2p <<< "$out")" "^[0-9a-f]{12} .*CMD \\[\"sh\",\"-c\",.* 0B +imgtool.buildfile.v0$"
like "history shows the RUN with its shell" "$out" "RUN /bin/sh -c echo 'www:x:33"
printf 'FROM busybox\nRUN echo u > /u\n' > "$T_TMP/fail/Buildfile"
rm "$T_TMP/fail/.dockerignore"
uid=$(img build -q "$T_TMP/fail")
is "without -t the image is found by its id" "$(img run --rm "${uid:7:12}" cat /u)" u
like "... under localhost/untagged" "$(img images)" "localhost/untagged +${uid:7:12}"
img rmi c r3 > /dev/null
out=$(img prune)
like "prune removes the cache records of removed images" "$out" "Deleted [0-9]+ build cache records"
out=$(cd "$REPO" && img build -t site:1 -f Buildfile.example . 2>&1)
is "... but keeps those of tagged images" "$(grep -c '^--> CACHED$' <<< "$out")" 11
out=$(img build -t c "$T_TMP/c" 2>&1)
is "... and removed ones run again" "$(grep -c '^--> CACHED$' <<< "$out")" 0

done_testing
