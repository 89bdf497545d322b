#!/bin/bash
# docker's management forms (image ls, container rm, ...) and the prune
# commands: what each removes, and what it keeps.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap kill_recorded_containers EXIT
"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
ok "fixture image in the store" img inspect busybox

# (the same columns; CREATED is left out: it may turn a second in between)
f='{{.Repository}} {{.Tag}} {{.ID}} {{.Size}}'
is "doc:management image ls is images" "$(img image ls --format "table $f")" "$(img images --format "table $f")"
is "image list too" "$(img image list -q)" "$(img images -q)"
ok "image tag" img image tag busybox other:1
ok "image rm" img image rm other:1
img run --network none --name m1 busybox true >/dev/null
is "container ls is ps" "$(img container ls -a -q)" "$(img ps -a -q)"
is "container ps too" "$(img container ps -a -q)" "$(img ps -a -q)"
like "container inspect" "$(img container inspect -f '{{.Name}}' m1)" "/m1"
ok "container rm" img container rm m1
fails "an unknown form" img image nosuch
like "says which" "$LAST_OUT" "unknown command 'image nosuch'"
fails "a group alone" img container
like "--help lists the forms" "$(img image --help)" "ls +imgtool images"

# container prune: the stopped containers, not the running ones
img run -d --network none --name up busybox sleep 1000 >/dev/null
img run --network none --name down1 busybox true >/dev/null
img run --network none --name down2 busybox false >/dev/null
out=$(echo n | img container prune 2>/dev/null)
like "doc:container-prune asks first, on stdout as docker" "$out" "Are you sure you want to continue"
is "and no is no" "$(img ps -a -q | wc -l)" 3
out=$(img container prune -f)
like "-f removes the stopped ones" "$out" "^Deleted Containers:"
is "the running one stays" "$(img ps -a --format '{{.Names}}')" "up"

# image prune -a: every image no container uses
img tag busybox unused:1
img import - lonely:1 < <(tar -c -C "$T_TMP" --files-from /dev/null) >/dev/null 2>&1
out=$(img image prune -a -f)
like "doc:image-prune-all untags the unused" "$out" "untagged: .*lonely:1"
like "with docker's total" "$out" "Total reclaimed space: "
like "the image of a container stays" "$(img images --format '{{.Repository}}')" "busybox"
is "its other names stay (an image ID in use, as docker)" "$(img images --format "{{.Repository}}:{{.Tag}}" | grep -c unused)" 1

# system df: what each kind holds, and what a prune would give back
img run --network none --name dfc -v dfvol:/data busybox sh -c 'head -c 100000 /dev/zero > /data/x; head -c 5000 /dev/zero > /y' >/dev/null
out=$(img system df)
like "doc:system-df docker's columns" "$out" '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE'
like "the images, one in use" "$out" $'\nImages +[0-9]+ +1 '
like "the stopped container's layer, all reclaimable" "$out" $'\nContainers +[0-9]+ +[0-9]+ +[0-9.]+kB +[0-9.]+kB \\(100%\\)'
like "the volume it uses, not reclaimable" "$out" $'\nLocal Volumes +1 +1 +100kB +0B \\(0%\\)'
like "-v names each" "$(img system df -v)" $'\nvolume +dfvol +100kB'
is "--format" "$(img system df --format '{{.Type}}:{{.TotalCount}}' | sed -n 3p)" "Local Volumes:1"
img rm -v dfc >/dev/null; img volume rm dfvol >/dev/null 2>&1

# system prune: stopped containers, dangling images, build cache; -a unused images
img stop -t 0 up >/dev/null
out=$(echo | img system prune 2>/dev/null)
like "doc:system-prune asks first, on stdout as docker" "$out" "WARNING! This will remove"
is "nothing removed on no" "$(img ps -a -q | wc -l)" 1
ok "system prune -a -f" img system prune -a -f
is "the stopped container is gone" "$(img ps -a -q | wc -l)" 0
is "and every image" "$(img images -q | wc -l)" 0
like "system info is info" "$(img system info)" "^Containers: 0"
done_testing
