#!/bin/bash
# Users and groups in run, exec and build: images whose /etc/passwd and
# /etc/group are symlinks (followed inside the image's root, never out of
# it), the supplementary groups docker gives (the primary gid among them,
# CVE-2022-36109), and a non-root user with no_new_privs off. The images
# are made with umoci and skopeo; podman is the oracle where it runs here.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/env.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
for p in umoci skopeo; do
  command -v $p > /dev/null || { skip "$p not installed"; done_testing; exit; }
done

"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture busybox in the store" test -f "$IMGTOOL_ROOT/oci/index.json"
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" docker.io/library/appuser:latest \
  --config.user app >/dev/null 2>&1
L=$T_TMP/layout
peers_busybox_layout "$L" latest

# linked TAG PASSWD GROUP: busybox plus a layer (umoci repack) in which
# /etc/passwd and /etc/group are symlinks to PASSWD and GROUP and the files
# themselves are in /usr/lib; stored as linked:TAG.
linked () {
  local b=$T_TMP/bundle-$1
  skopeo copy -q "oci:$L:latest" "oci:$L:$1" &&
    umoci unpack --image "$L:$1" "$b" > /dev/null &&
    mkdir -p "$b/rootfs/usr/lib" &&
    mv "$b/rootfs/etc/passwd" "$b/rootfs/etc/group" "$b/rootfs/usr/lib/" &&
    ln -s "$2" "$b/rootfs/etc/passwd" && ln -s "$3" "$b/rootfs/etc/group" &&
    umoci repack --image "$L:$1" "$b" > /dev/null &&
    skopeo copy -q "oci:$L:$1" "oci:$IMGTOOL_ROOT/oci:docker.io/library/linked:$1"
}
# A file on the host that a link must not reach.
echo 'hostuser:x:4321:4321::/:/bin/sh' > "$T_TMP/hostpasswd"
ok "image: absolute /etc/passwd, relative /etc/group links" linked abs /usr/lib/passwd ../usr/lib/group
ok "image: links that climb above the root" linked out ../../../../usr/lib/passwd /../../usr/lib/group
ok "image: links to host paths (dangling in the image)" linked host "$T_TMP/hostpasswd" "$T_TMP/nogroup"
ok "image: a link to itself (a loop)" linked loop ../../../etc/passwd ../usr/lib/group

podman_ok=0
if command -v podman > /dev/null && command -v crun > /dev/null && peers_env "$T_TMP/peers"; then
  trap peers_cleanup EXIT
  peers_podman_load "$L" latest docker.io/library/busybox:latest && podman_ok=1
  for t in abs out host loop; do peers_podman_load "$L" $t "docker.io/library/linked:$t" || podman_ok=0; done
fi
# pod ARGS...: the same run in podman
pod () { peers_podman run --rm --network=none "$@" 2>&1; }

# --- /etc/passwd and /etc/group as symlinks ----------------------------------
R=(run --rm --network none)
out=$(img "${R[@]}" linked:abs id 2>&1); rc=$?
is "a symlinked /etc/passwd: run without -u" "$rc" 0
# doc:supp-groups
is "... as root with root's groups" "$out" "uid=0(root) gid=0(root) groups=0(root),10(wheel)"
is "-u app through an absolute link" "$(img "${R[@]}" -u app linked:abs id 2>&1)" \
  "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app),1001(extra)"
is "-u 1000 takes its name and groups through the links" "$(img "${R[@]}" -u 1000 linked:abs id 2>&1)" \
  "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app),1001(extra)"
is "HOME from the linked passwd" "$(img "${R[@]}" -u app linked:abs sh -c 'echo $HOME' 2>&1)" /home/app
is "links above the root stay in it" "$(img "${R[@]}" -u app linked:out id 2>&1)" \
  "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app),1001(extra)"
is "a link to a host path: a missing file, root works" "$(img "${R[@]}" linked:host id -u 2>&1)" 0
is "... and numeric users" "$(img "${R[@]}" -u 1000:1000 linked:host id 2>&1)" "uid=1000 gid=1000 groups=1000"
out=$(img "${R[@]}" -u hostuser linked:host id 2>&1); rc=$?
is "the host's file is never read" "$rc:$out" \
  "125:imgtool: unable to find user hostuser: no matching entries in passwd file"
out=$(img "${R[@]}" linked:loop true 2>&1); rc=$?
is "a symlink loop fails with 125" "$rc" 125
like "... in one line that says so" "$out" '^imgtool: [^'$'\n'']*Too many levels of symbolic links$'
if [ $podman_ok = 1 ]; then
  is "podman agrees: -u app through the links" "$(pod -u app linked:abs id)" \
    "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app),1001(extra)"
  is "podman agrees: links above the root stay in it" "$(pod -u 1000 linked:out id -u)" 1000
  like "podman agrees: never the host's file" "$(pod -u hostuser linked:host id)" "unable to find user hostuser"
  like "podman agrees: a loop is an error" "$(pod linked:loop true)" "too many levels of symbolic links"
else
  skip "podman does not run here: no oracle for the symlinked images"
fi

# exec resolves -u in the running container's own files
img run -d --name linked-bg --network none linked:abs sleep 60 > /dev/null
is "exec -u app through the links" "$(img exec -u app linked-bg id -u 2>&1)" 1000
img rm -f linked-bg > /dev/null 2>&1

# build: USER, RUN and COPY --chown on the symlinked files
mkdir -p "$T_TMP/ctx"
echo data > "$T_TMP/ctx/f"
cat > "$T_TMP/ctx/Buildfile" <<'EOF'
FROM linked:abs
COPY --chown=app:extra f /f
USER app
RUN id > /tmp/id
EOF
out=$(img build --network none -t linked-built "$T_TMP/ctx" 2>&1); rc=$?
is "build on an image with symlinked /etc/passwd" "$rc" 0
[ $rc = 0 ] || echo "$out" | tail -3 | sed 's/^/#   /'
is "... RUN ran as USER app with its groups" "$(img "${R[@]}" linked-built cat /tmp/id 2>&1)" \
  "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app),1001(extra)"
is "... COPY --chown=app:extra" "$(img "${R[@]}" linked-built stat -c %u:%g /f 2>&1)" 1000:1001

# --- supplementary groups: docker's (moby getUser) ---------------------------
groups_of () { img "${R[@]}" "$@" sh -c 'sed -n "s/^Groups:[[:space:]]*//p" /proc/self/status' 2>&1 | sed 's/ *$//'; }
pgroups_of () { pod "$@" sh -c 'sed -n "s/^Groups:[[:space:]]*//p" /proc/self/status' | sed 's/ *$//'; }
# spec -> docker's AdditionalGids as the kernel lists them (sorted)
while read -r spec want; do
  is "-u $spec: groups $want" "$(groups_of -u "$spec" busybox)" "$want"
  if [ $podman_ok = 1 ]; then
    is "-u $spec: as podman's" "$(groups_of -u "$spec" busybox)" "$(pgroups_of -u "$spec" busybox)"
  fi
done <<'EOF'
app 10 1000 1001
1000 10 1000 1001
root 0 10
0 0 10
app:app 1000
app:extra 1001
1000:1001 1001
4242 0
4242:4343 4343
daemon 1 1001
EOF
[ $podman_ok = 1 ] || skip "podman does not run here: groups checked against docker's rule only"
is "USER app in the image: the primary group too" "$(groups_of appuser)" "10 1000 1001"
# docker resolves the empty user as uid 0 (0 10); podman 4.3 skips the
# primary group when no user is given (10): docker's is the rule here
is "no user: root's groups as docker's" "$(groups_of busybox)" "0 10"

# --- no_new_privs off with a non-root user -----------------------------------
PROBE='id -u; for k in CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do sed -n "s/^$k:[[:space:]]*/$k=/p" /proc/self/status; done
unshare -U true 2>/dev/null && echo userns=allowed || echo userns=denied'
get () { sed -n "s/^$1=//p" <<< "$2"; }
off=$(img "${R[@]}" --security-opt no-new-privileges=false -u 1000 busybox sh -c "$PROBE" 2>&1); rc=$?
is "no-new-privileges=false -u 1000 starts" "$rc" 0
is "... as uid 1000" "$(head -1 <<< "$off")" 1000
on=$(img "${R[@]}" -u 1000 busybox sh -c "$PROBE" 2>&1)
for k in CapInh CapPrm CapEff CapBnd CapAmb; do
  is "... $k as with no_new_privs on" "$(get $k "$off")" "$(get $k "$on")"
done
is "... nothing effective or permitted" "$(get CapEff "$off")$(get CapPrm "$off")" 00000000000000000000000000000000
is "... the default bounding set (podman's 11)" "$(get CapBnd "$off")" 00000000800405fb
is "... no_new_privs off" "$(get NoNewPrivs "$off")" 0
is "... seccomp filter active" "$(get Seccomp "$off")" 2
is "... which still blocks unshare(CLONE_NEWUSER)" "$(get userns "$off")" denied
unconfined=$(img "${R[@]}" --security-opt no-new-privileges=false --security-opt seccomp=unconfined \
  -u 1000 busybox sh -c "$PROBE" 2>&1)
if [ "$(get userns "$unconfined")" = allowed ]; then
  ok "... (without the filter the kernel allows it: the filter is what blocks)" true
else
  skip "this kernel denies unprivileged user namespaces: the control proves nothing"
fi
is "no-new-privileges=false -u app (a name)" \
  "$(img "${R[@]}" --security-opt no-new-privileges=false -u app busybox id -un 2>&1)" app
root_off=$(img "${R[@]}" --security-opt no-new-privileges=false busybox sh -c "$PROBE" 2>&1)
root_on=$(img "${R[@]}" busybox sh -c "$PROBE" 2>&1)
is "no-new-privileges=false as root: the same capabilities" \
  "$(get CapEff "$root_off") $(get CapBnd "$root_off")" "$(get CapEff "$root_on") $(get CapBnd "$root_on")"
is "... and a filter" "$(get Seccomp "$root_off")" 2
img run -d --name nnp-bg --network none --security-opt no-new-privileges=false busybox sleep 60 > /dev/null
is "exec -u 1000 into a no-new-privileges=false container" "$(img exec -u 1000 nnp-bg id -u 2>&1)" 1000
img rm -f nnp-bg > /dev/null 2>&1
if [ $podman_ok = 1 ]; then
  p=$(pod -u 1000 busybox sh -c "$PROBE")
  for k in CapPrm CapEff CapBnd NoNewPrivs Seccomp; do
    is "... $k as podman's (no_new_privs off there by default)" "$(get $k "$off")" "$(get $k "$p")"
  done
else
  skip "podman does not run here: no oracle for no_new_privs off"
fi

done_testing
