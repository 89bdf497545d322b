#!/bin/bash
# Volumes as docker has them: `volume create/ls/inspect/rm/prune`, -v
# NAME:/x made on first use, anonymous volumes from -v /x and the image's
# VOLUME, --mount with docker's keys and messages, the copy of the image's
# content into a new empty volume (compared with podman's), rm -v and
# run --rm taking only anonymous volumes, a volume in use never removed,
# and what a killed command leaves repaired by the next one.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/env.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
for p in umoci skopeo; do
  command -v $p > /dev/null || { skip "$p not installed"; done_testing; exit; }
done

R=$IMGTOOL_ROOT
V=$R/volumes
trap kill_recorded_containers EXIT
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
ok "fixture busybox in the store" img inspect busybox
RUN=(run --network none)
export IMGTOOL
export -f img
# mounts_of C: the container's Mounts as JSON
mounts_of () { img inspect -f '{{json .Mounts}}' "$1"; }

# volimg: busybox plus /srv/app with owners, modes, a set-user-ID file, a
# symlink, a hard link, an xattr and an empty dir, VOLUME /srv/app; and
# /srv/file, a file (never copied into a volume).
L=$T_TMP/layout
peers_busybox_layout "$L" latest
B=$T_TMP/bundle
mkvolimg () {
  skopeo copy -q "oci:$L:latest" "oci:$L:vol" &&
    umoci unpack --image "$L:vol" "$B" > /dev/null &&
    mkdir -p "$B/rootfs/srv/app/sub/deeper" "$B/rootfs/srv/app/empty" &&
    echo data > "$B/rootfs/srv/app/f" && chown 1:2 "$B/rootfs/srv/app/f" &&
    chmod 640 "$B/rootfs/srv/app/f" &&
    echo suid > "$B/rootfs/srv/app/s" && chown 33:33 "$B/rootfs/srv/app/s" &&
    chmod 4755 "$B/rootfs/srv/app/s" &&
    ln "$B/rootfs/srv/app/f" "$B/rootfs/srv/app/hard" &&
    ln -s ../app/f "$B/rootfs/srv/app/link" &&
    echo deep > "$B/rootfs/srv/app/sub/deeper/x" &&
    chown -R 5:6 "$B/rootfs/srv/app/sub" && chmod 750 "$B/rootfs/srv/app/sub" &&
    /usr/bin/python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.kind", b"volimg")' \
      "$B/rootfs/srv/app/f" &&
    chown 7:8 "$B/rootfs/srv/app" && chmod 711 "$B/rootfs/srv/app" &&
    echo file > "$B/rootfs/srv/file" &&
    umoci repack --image "$L:vol" "$B" > /dev/null &&
    umoci config --image "$L:vol" --config.volume /srv/app > /dev/null &&
    skopeo copy -q "oci:$L:vol" "oci:$R/oci:docker.io/library/volimg:latest"
}
ok "image volimg (umoci): /srv/app with owners, modes, links, an xattr; VOLUME /srv/app" mkvolimg

# --- volume create, ls, inspect ---------------------------------------------
is "volume create prints the name" "$(img volume create data 2>&1)" data
is "create again: the same volume" "$(img volume create data 2>&1)" data
ok "its data dir is <root>/volumes/NAME/_data" test -d "$V/data/_data"
# doc:volume-layout
is "the volumes dir and a volume's are 0701, _data 0755" \
  "$(stat -c %a "$V" "$V/data" "$V/data/_data" | tr '\n' ' ')" "701 701 755 "
anon=$(img volume create 2>&1)
like "no name: 64 random hex digits" "$anon" '^[0-9a-f]{64}$'
is "labels" "$(img volume create --label env=prod --label tier lab 2>&1)" lab
out=$(img volume inspect lab)
is "inspect: docker's fields" "$(jq -c '.[0] | keys' <<< "$out")" \
  '["CreatedAt","Driver","Labels","Mountpoint","Name","Options","Scope"]'
is "inspect: Name, Driver, Scope, Mountpoint" \
  "$(jq -r '.[0] | "\(.Name) \(.Driver) \(.Scope) \(.Mountpoint)"' <<< "$out")" \
  "lab local local $V/lab/_data"
is "inspect: Labels" "$(jq -c '.[0].Labels' <<< "$out")" '{"env":"prod","tier":""}'
like "inspect: CreatedAt is RFC 3339" "$(jq -r '.[0].CreatedAt' <<< "$out")" \
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
is "inspect -f" "$(img volume inspect -f '{{.Name}} {{.Driver}}' data lab)" \
  $'data local\nlab local'
fails "inspect of a missing one" img volume inspect nosuch
like "... says so" "$LAST_OUT" "no such volume: 'nosuch'"
fails "a name docker refuses" img volume create 'bad/name'
is "... with docker's message, one line" "$LAST_OUT" \
  "imgtool: create bad/name: \"bad/name\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
fails "a driver other than local" img volume create -d nfs x1
is "... docker's message" "$LAST_OUT" \
  'imgtool: error looking up volume plugin nfs: plugin "nfs" not found'
ok "-d local is fine" img volume create -d local loc
ok "...and nothing half-made is left of the refused ones" \
  test ! -e "$V/bad" -a ! -e "$V/x1"

is "ls: docker's table, sorted" "$(img volume ls | grep -v "$anon")" \
  $'DRIVER    VOLUME NAME\nlocal     data\nlocal     lab\nlocal     loc'
is "ls -q" "$(img volume ls -q | grep -vc "$anon")" 3
is "ls --filter label=env=prod" "$(img volume ls -q --filter label=env=prod)" lab
is "ls --filter label=tier (the key alone)" "$(img volume ls -q -f label=tier)" lab
is "ls --filter name= (a pattern)" "$(img volume ls -q -f name=^l)" $'lab\nloc'
is "ls --format" "$(img volume ls --format '{{.Name}}:{{.Driver}}:{{.Labels}}' -f name=lab)" \
  "lab:local:env=prod,tier="
fails "ls --filter with an unknown key" img volume ls -f color=red
like "... docker's message" "$LAST_OUT" "invalid filter 'color'"

# --- -v NAME:/x, data across containers -------------------------------------
ok "run -v new:/d makes the volume" img "${RUN[@]}" --rm -v fresh:/d busybox sh -c 'echo kept > /d/f'
ok "... it is listed" bash -c "img volume ls -q | grep -qx fresh"
is "the data is in the next container" "$(img "${RUN[@]}" --rm -v fresh:/d busybox cat /d/f 2>&1)" kept
is ":ro is read-only" "$(img "${RUN[@]}" --rm -v fresh:/d:ro busybox sh -c '(echo x > /d/g) 2>/dev/null || echo refused' 2>&1)" refused
ok "run --rm left the named volume" test -f "$V/fresh/_data/f"
is "-v /host:/x still binds the host dir" \
  "$(mkdir -p "$T_TMP/h" && echo host > "$T_TMP/h/f" && img "${RUN[@]}" --rm -v "$T_TMP/h:/h" busybox cat /h/f 2>&1)" host

# --- inspect's Mounts ------------------------------------------------------
img "${RUN[@]}" --name m1 -v fresh:/d -v /anon -v "$T_TMP/h:/h:ro" \
  --mount type=tmpfs,dst=/t,tmpfs-size=1m busybox true > /dev/null 2>&1
m=$(img inspect -f '{{json .Mounts}}' m1)
is "Mounts: a named volume as docker shows it" "$(jq -c '.[0]' <<< "$m")" \
  "{\"Type\":\"volume\",\"Name\":\"fresh\",\"Source\":\"$V/fresh/_data\",\"Destination\":\"/d\",\"Driver\":\"local\",\"Mode\":\"z\",\"RW\":true,\"Propagation\":\"\"}"
aname=$(jq -r '.[1].Name' <<< "$m")
is "Mounts: an anonymous volume" "$(jq -c '.[1]' <<< "$m")" \
  "{\"Type\":\"volume\",\"Name\":\"$aname\",\"Source\":\"$V/$aname/_data\",\"Destination\":\"/anon\",\"Driver\":\"local\",\"Mode\":\"\",\"RW\":true,\"Propagation\":\"\"}"
is "Mounts: a read-only bind" "$(jq -c '.[2]' <<< "$m")" \
  "{\"Type\":\"bind\",\"Source\":\"$T_TMP/h\",\"Destination\":\"/h\",\"Mode\":\"ro\",\"RW\":false,\"Propagation\":\"rprivate\"}"
is "Mounts: a tmpfs" "$(jq -c '.[3] | [.Type, .Destination, .RW]' <<< "$m")" '["tmpfs","/t",true]'
is "ps: LocalVolumes counts them, Mounts names the volume first" \
  "$(img ps -a --format '{{.Names}} {{.LocalVolumes}} {{.Mounts}}' | awk '$1 == "m1" {print $2, substr($3, 1, 6)}')" "2 fresh,"
is "the anonymous volume carries docker's label" \
  "$(img volume inspect -f '{{json .Labels}}' "$aname")" '{"com.docker.volume.anonymous":""}'

# --- in use: never removed ---------------------------------------------------
m1=$(img inspect -f '{{.Id}}' m1)
fails "volume rm of a volume a stopped container uses" img volume rm fresh
# doc:volume-in-use
is "... names the container, docker's message" "$LAST_OUT" \
  "imgtool: remove fresh: volume is in use - [$m1]"
fails "-f does not override it" img volume rm -f fresh
ok "... the data is still there" test -f "$V/fresh/_data/f"
is "ls --filter dangling=false" "$(img volume ls -q -f dangling=false | sort)" \
  "$(printf '%s\n' "$aname" fresh | sort)"
is "ls --filter dangling=true" "$(img volume ls -q -f dangling=true | grep -v "$anon" | tr '\n' ' ')" "data lab loc "
img "${RUN[@]}" -d --name m2 -v data:/d busybox sleep 1000 > /dev/null
fails "volume rm of one a running container uses" img volume rm data
ok "rm -f of that container" img rm -f m2
ok "now it can go" img volume rm data
ok "volume rm of a missing one fails" bash -c "! img volume rm data"
ok "... but not with -f" img volume rm -f data

# --- rm -v, run --rm ----------------------------------------------------------
# doc:rm-volumes
ok "rm -v m1" img rm -v m1
ok "... removed its anonymous volume" test ! -e "$V/$aname"
ok "... and kept the named one" test -f "$V/fresh/_data/f"
img "${RUN[@]}" --name m3 -v /anon busybox true > /dev/null 2>&1
a3=$(mounts_of m3 | jq -r '.[0].Name')
ok "rm without -v keeps the anonymous volume" bash -c "img rm m3 >/dev/null && test -d '$V/$a3'"
out=$(img "${RUN[@]}" --rm -v /anon -v fresh:/d busybox sh -c 'cat /proc/self/mountinfo' 2>&1)
n_before=$(ls "$V" | grep -c '^[0-9a-f]\{64\}$')
img "${RUN[@]}" --rm -v /anon2 busybox true
is "run --rm removes its anonymous volume" "$(ls "$V" | grep -c '^[0-9a-f]\{64\}$')" "$n_before"
ok "... and keeps the named one" test -f "$V/fresh/_data/f"

# --- the image's VOLUME and the copy-up --------------------------------------
img "${RUN[@]}" --name v1 volimg true > /dev/null 2>&1
v1=$(img inspect -f '{{json .Mounts}}' v1)
is "the image's VOLUME is an anonymous volume" \
  "$(jq -r '.[0] | "\(.Type) \(.Destination) \(.Mode)"' <<< "$v1")" "volume /srv/app "
vsrc=$(jq -r '.[0].Source' <<< "$v1")
is "... filled with the image's content" "$(cat "$vsrc/f" 2>&1)" data
is "-v over the VOLUME's path replaces it" \
  "$(img "${RUN[@]}" --rm -v "$T_TMP/h:/srv/app" volimg ls /srv/app 2>&1)" f

# list DIR: owners, modes, types, sizes, link targets, inode sharing
list () {
  img "${RUN[@]}" --rm "$@" volimg sh -c 'cd /srv/app && for f in . $(find . -mindepth 1 | sort); do
      echo "$f $(stat -c "%u:%g %a %F %s %h" "$f") $(readlink "$f")"; done' 2>&1
}
mine=$(list -v copy1:/srv/app)
like "copy-up: the volume root takes the image dir's owner and mode" "$(head -1 <<< "$mine")" '^\. 7:8 711 directory'
like "copy-up: owners and modes" "$mine" './f 1:2 640 regular file 5 2'
like "copy-up: set-user-ID kept" "$mine" './s 33:33 4755 regular file'
like "copy-up: the symlink as is" "$mine" './link 0:0 777 symbolic link [0-9]+ 1 ../app/f'
like "copy-up: subdir owners and modes" "$mine" './sub 5:6 750 directory'
is "copy-up: a hard link stays one" \
  "$(stat -c %i "$V/copy1/_data/f" "$V/copy1/_data/hard" | uniq | wc -l)" 1
is "copy-up: xattrs" "$(/usr/bin/python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.kind").decode())' "$V/copy1/_data/f" 2>&1)" volimg
ok "copy-up: no marker left" test ! -e "$V/copy1/copy-up"
is "a non-empty volume is not copied into" \
  "$(img "${RUN[@]}" --rm -v fresh:/srv/app volimg ls /srv/app 2>&1)" f
is "nocopy: an empty volume stays empty" \
  "$(img "${RUN[@]}" --rm -v nc:/srv/app:nocopy volimg ls -A /srv/app 2>&1)" ""
is "--mount volume-nocopy likewise" \
  "$(img "${RUN[@]}" --rm --mount type=volume,src=nc2,dst=/srv/app,volume-nocopy volimg ls -A /srv/app 2>&1)" ""
is "a bind is never copied into" "$(mkdir "$T_TMP/eb" && img "${RUN[@]}" --rm -v "$T_TMP/eb:/srv/app" volimg ls -A /srv/app 2>&1)" ""

# podman: the same image, `podman run -v newvol:/srv/app`, the same listing
if command -v podman > /dev/null && command -v crun > /dev/null && peers_env "$T_TMP/peers" &&
  peers_podman_load "$L" vol docker.io/library/volimg:latest; then
  trap 'kill_recorded_containers; peers_cleanup' EXIT
  theirs=$(peers_podman run --rm --network=none -v newvol:/srv/app volimg sh -c 'cd /srv/app && for f in . $(find . -mindepth 1 | sort); do
      echo "$f $(stat -c "%u:%g %a %F %s %h" "$f") $(readlink "$f")"; done' 2>&1)
  # doc:volume-copy-up
  is "copy-up: the same owners, modes, files and links as podman's" "$mine" "$theirs"
  pv=$PEERS_DIR/storage/volumes/newvol/_data
  is "copy-up: the same xattrs as podman's" \
    "$(/usr/bin/python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.kind").decode())' "$V/copy1/_data/f" 2>&1)" \
    "$(/usr/bin/python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.kind").decode())' "$pv/f" 2>&1)"
else
  skip "podman does not run here"
  skip "podman does not run here"
fi

# --- --mount ----------------------------------------------------------------
is "--mount type=bind" "$(img "${RUN[@]}" --rm --mount "type=bind,source=$T_TMP/h,target=/h,readonly" busybox sh -c 'cat /h/f; touch /h/g 2>/dev/null || echo ro' 2>&1)" $'host\nro'
is "--mount type=volume (named, made on first use)" \
  "$(img "${RUN[@]}" --rm --mount src=mv,dst=/m busybox sh -c 'echo in > /m/f'; cat "$V/mv/_data/f")" in
is "--mount volume-label labels a volume it makes" \
  "$(img "${RUN[@]}" --rm --mount src=mlab,dst=/m,volume-label=a=b busybox true; img volume inspect -f '{{json .Labels}}' mlab)" '{"a":"b"}'
is "--mount type=tmpfs with tmpfs-size and tmpfs-mode" \
  "$(img "${RUN[@]}" --rm --mount type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770 busybox sh -c 'stat -c %a /t; df -k /t | tail -1' 2>&1 | awk 'NR==1 {print} NR==2 {print $2}')" \
  $'1770\n1024'
# bad keys: one line each, docker's words, exit 125
badmount () {
  local spec=$1 want=$2 out rc
  out=$(img "${RUN[@]}" --rm --mount "$spec" busybox true 2>&1); rc=$?
  is "--mount '$spec': exit 125" "$rc" 125
  is "--mount '$spec': one line" "$out" "imgtool: invalid argument \"$spec\" for \"--mount\" flag: $want"
}
# doc:mount-errors
badmount "type=bind,src=/tmp" "target is required"
badmount "type=bind,src=/tmp,dst=/x,bogus=1" "unknown option 'bogus' in 'bogus=1'"
badmount "type=bind,src=/tmp,dst=/x,rw" "invalid field 'rw' must be a key=value pair"
badmount "type=volume,dst=/x,bind-propagation=shared" "cannot mix 'bind-*' options with mount type 'volume'"
badmount "type=bind,src=$T_TMP/nonexistent,dst=/x" \
  "invalid mount config for type \"bind\": bind source path does not exist: $T_TMP/nonexistent"
badmount "type=tmpfs,src=/x,dst=/x" "invalid mount config for type \"tmpfs\": field Source must not be specified"
out=$(img "${RUN[@]}" --rm -v /data:ro busybox true 2>&1)
is "-v DST:MODE is docker's invalid spec" "$out" "imgtool: invalid volume specification: '/data:ro'"
out=$(img "${RUN[@]}" --rm -v /a:/b:rx busybox true 2>&1)
is "-v with an unknown mode" "$out" "imgtool: invalid mode: rx"
out=$(img "${RUN[@]}" --rm -v 'bad!name:/x' busybox true 2>&1); rc=$?
like "-v with a bad volume name: docker's message" "$out" 'includes invalid characters for a local volume name'
is "... exit 125" "$rc" 125
ok "... and no container or volume is left" test ! -e "$V/bad!name"

# --- prune -------------------------------------------------------------------
img rm -f v1 > /dev/null
img volume create keepme > /dev/null
img volume create --label drop=1 named2 > /dev/null
img "${RUN[@]}" -d --name p1 -v /busy -v keepuse:/k busybox sleep 1000 > /dev/null
busy=$(mounts_of p1 | jq -r '.[0].Name')
out=$(img volume prune -f)
like "prune: Deleted Volumes, then the total" "$out" $'^Deleted Volumes:\n([0-9a-f]{64}\n)+\nTotal reclaimed space: [0-9.]+k?B$'
ok "prune: the unused anonymous ones went" test ! -e "$V/$a3" -a ! -e "$V/$(jq -r '.[0].Name' <<< "$v1")"
ok "prune: one volume create made without a name is not anonymous (docker)" test -d "$V/$anon"
ok "prune: the anonymous one in use stayed" test -d "$V/$busy"
ok "prune: named ones stayed" bash -c "img volume ls -q | grep -qx keepme && img volume ls -q | grep -qx named2"
is "prune again: nothing" "$(img volume prune -f)" "Total reclaimed space: 0B"
is "prune -a --filter label=drop removes only that one" \
  "$(img volume prune -af --filter label=drop | head -2)" $'Deleted Volumes:\nnamed2'
is "prune without -f asks; no answer, nothing removed" \
  "$(img volume prune -a < /dev/null; img volume ls -q | grep -c keepme)" \
  "WARNING! This will remove all local volumes not used by at least one container.
Are you sure you want to continue? [y/N] 1"
out=$(echo y | img volume prune -a)
like "prune -a: named ones unused go too" "$out" 'keepme'
ok "... but not one in use" bash -c "img volume ls -q | grep -qx keepuse"
img rm -f p1 > /dev/null

# --- a killed command leaves nothing half-made --------------------------------
# A volume is made under a temp name and renamed; a copy-up marks the
# volume until it is complete. What a kill -9 leaves is simulated exactly:
# a temp dir, and a marked volume holding part of a copy.
mkdir -p "$V/.new-deadbeef/_data"
ok "a half-made volume is never listed" bash -c "! img volume ls -q | grep -q deadbeef"
ok "... and the next rm or prune sweeps it" bash -c "img volume prune -f >/dev/null && test ! -e '$V/.new-deadbeef'"
img volume create half > /dev/null
echo partial > "$V/half/_data/f" && touch "$V/half/copy-up"
is "a copy cut short is done again at the next mount" \
  "$(img "${RUN[@]}" --rm -v half:/srv/app volimg sh -c 'ls /srv/app | tr "\n" " "; cat /srv/app/f' 2>&1)" \
  "empty f hard link s sub data"
ok "... and the mark is gone" test ! -e "$V/half/copy-up"
# The real thing where the window is seen: kill -9 of `run` while it copies
# a big tree (the container's child doing the copy dies with it).
mkbig () {
  skopeo copy -q "oci:$L:latest" "oci:$L:big" &&
    rm -rf "$B" && umoci unpack --image "$L:big" "$B" > /dev/null &&
    mkdir -p "$B/rootfs/big" &&
    for i in $(seq 1 40); do mkdir "$B/rootfs/big/d$i"; for j in $(seq 1 100); do echo "$i $j" > "$B/rootfs/big/d$i/f$j"; done; done &&
    umoci repack --image "$L:big" "$B" > /dev/null &&
    skopeo copy -q "oci:$L:big" "oci:$R/oci:docker.io/library/big:latest"
}
ok "image big: 4000 files at /big" mkbig
img "${RUN[@]}" --rm -v killed:/big big true > /dev/null 2>&1 &
pid=$!
seen=0
while kill -0 $pid 2>/dev/null; do
  if [ -e "$V/killed/copy-up" ]; then kill -9 $pid; seen=1; break; fi
done
wait $pid 2>/dev/null
if [ $seen = 1 ]; then
  ok "kill -9 during the copy: the volume is marked" test -e "$V/killed/copy-up"
else
  skip "the copy finished before it was seen"
fi
is "... the next run has the whole copy" \
  "$(img "${RUN[@]}" --rm -v killed:/big big sh -c 'find /big -type f | wc -l' 2>&1)" 4000
ok "... and no mark" test ! -e "$V/killed/copy-up"

done_testing
