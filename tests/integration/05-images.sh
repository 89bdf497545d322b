#!/bin/bash
# images, inspect, tag, rmi, prune on a store filled by skopeo (a peer) from
# the lab's fixture layouts, so the store format is checked against skopeo.
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_FIXTURES:-}" ]; then skip "the lab is not running"; done_testing; exit; fi
mkdir -p "$IMGTOOL_ROOT"
sk () { skopeo --policy "$LAB_POLICY" "$@"; }
ok "skopeo copies busybox (all platforms) into imgtool's store" \
  sk copy -q --all "oci:$LAB_FIXTURES/busybox:latest" "oci:$IMGTOOL_ROOT/oci:docker.io/library/busybox:latest"
ok "skopeo copies layered into imgtool's store" \
  sk copy -q "oci:$LAB_FIXTURES/layered:latest" "oci:$IMGTOOL_ROOT/oci:127.0.0.1:5000/test/layered:v1"

out=$(img images)
like "images lists busybox by its short name" "$out" $'\n''busybox +latest +[0-9a-f]{12} +[0-9]+ years ago +[0-9.]+[kMG]?B'
like "under docker's default header" "$out" '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE'$'\n'
is "images --format table is that default table" "$(img images --format table)" "$out"
like "images lists a registry image with its host" "$out" '127\.0\.0\.1:5000/test/layered +v1'
like "images --format: a Go template" "$(img images --format '{{.Repository}}:{{.Tag}} {{len .ID}}')" \
  "(^|"$'\n'")busybox:latest 12"
like "images --format table: a header, aligned" \
  "$(img images --format 'table {{.Repository}}\t{{.Tag}}')" "^REPOSITORY +TAG"$'\n'
json=$(img images --format json)
is "images --format json: one JSON object per line, one line per name" \
  "$(jq -c 'type' <<<"$json" | sort | uniq -c | awk '{print $1, $2}')" '2 "object"'
is "with docker's fields" "$(jq -c 'keys' <<<"$json" | sort -u)" \
  '["Containers","CreatedAt","CreatedSince","Digest","ID","Repository","SharedSize","Size","Tag","UniqueSize","VirtualSize"]'
is "images --format json: digest of busybox is the index digest" \
  "$(jq -r 'select(.Repository=="busybox") | .Digest' <<<"$json")" "$LAB_DIGEST_BUSYBOX"
amd64_config=$(sk inspect --config "oci:$LAB_FIXTURES/busybox:amd64" | jq -r '.rootfs.diff_ids[0]')
[ -n "$amd64_config" ]
cfg_digest=$(sk inspect --raw "oci:$LAB_FIXTURES/busybox:amd64" | jq -r .config.digest)
is "images --format json: ID is the short config digest" \
  "$(jq -r 'select(.Repository=="busybox") | .ID' <<<"$json")" "${cfg_digest:7:12}"
like "CreatedAt as docker prints it" "$(jq -r 'select(.Repository=="busybox") | .CreatedAt' <<<"$json")" \
  '^20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4} [A-Z]+$'

is "inspect picks the host's platform from the index" \
  "$(img inspect busybox | jq -r '.[0].ManifestDigest')" "$LAB_DIGEST_BUSYBOX_AMD64"
is "inspect --platform linux/arm64 picks the arm64 manifest" \
  "$(img inspect --platform linux/arm64 busybox | jq -r '.[0].ManifestDigest')" "$LAB_DIGEST_BUSYBOX_ARM64"
is "inspect shows the config" "$(img inspect busybox | jq -r '.[0].ImageConfig.config.Cmd[0]')" "sh"
is "inspect -f: docker's image fields" \
  "$(img inspect -f '{{.Config.Cmd}} {{.Os}}/{{.Architecture}} {{json .RepoTags}} {{len .RootFS.Layers}}' busybox)" \
  "[sh] linux/amd64 [\"busybox:latest\"] $(img inspect busybox | jq '.[0].ImageConfig.rootfs.diff_ids | length')"
like "inspect: RepoDigests name@digest" "$(img inspect -f '{{index .RepoDigests 0}}' busybox)" '^busybox@sha256:[0-9a-f]{64}$'
fails "inspect --platform linux/s390x fails" img inspect --platform linux/s390x busybox
like "and lists the platforms there" "$LAST_OUT" 'no matching manifest for linux/s390x.*linux/amd64, linux/arm64/v8'
is "inspect by image ID prefix" \
  "$(img inspect "${cfg_digest:7:12}" | jq -r '.[0].Reference')" "docker.io/library/busybox:latest"
fails "inspect of an unknown image fails" img inspect nosuch
like "with one clear line" "$LAST_OUT" "^imgtool: no such image: 'nosuch'$"
fails "an invalid reference fails" img inspect Busybox
like "saying why" "$LAST_OUT" 'must be lowercase'

ok "tag busybox mine:1" img tag busybox mine:1
like "umoci (a peer) lists imgtool's references" "$(umoci ls --layout "$IMGTOOL_ROOT/oci")" 'docker\.io/library/mine:1'
ok "umoci reads a single-platform image's config and history" umoci stat --image "$IMGTOOL_ROOT/oci:127.0.0.1:5000/test/layered:v1"
like "the new name is listed" "$(img images)" $'\n''mine +1 +[0-9a-f]{12} '
ok "skopeo reads the new name from imgtool's store" sk inspect --raw "oci:$IMGTOOL_ROOT/oci:docker.io/library/mine:1"
fails "tag to a name with a digest fails" img tag busybox "x@$LAB_DIGEST_BUSYBOX"
fails "tag of an unknown image fails" img tag nosuch x:1

nblobs () { find "$IMGTOOL_ROOT/oci/blobs/sha256" -type f | wc -l; }
before=$(nblobs)
# By ID, an image with several names goes only with -f (docker).
bid=${cfg_digest:7:12}
fails "rmi by ID of an image with two names fails" img rmi "$bid"
is "as docker says" "$LAST_OUT" \
  "imgtool: conflict: unable to delete $bid (must be forced) - image is referenced in multiple repositories"
ok "both names stay" img inspect mine:1 busybox
ok "tag busybox mine:2" img tag busybox mine:2
is "rmi -f by ID untags every name" "$(img rmi -f "$bid" | grep -c '^Untagged: ')" 3
fails "mine:2 is gone" img inspect mine:2
ok "skopeo copies busybox back" \
  sk copy -q --all "oci:$LAB_FIXTURES/busybox:latest" "oci:$IMGTOOL_ROOT/oci:docker.io/library/busybox:latest"
ok "tag busybox mine:1" img tag busybox mine:1
ok "rmi mine:1" img rmi mine:1
is "rmi of one of two names keeps every blob" "$(nblobs)" "$before"
fails "mine:1 is gone" img inspect mine:1
ok "rmi busybox" img rmi busybox
is "rmi of the last name frees the image's blobs (layered's 5 remain)" "$(nblobs)" 5
ok "skopeo still reads the remaining image" sk inspect --raw "oci:$IMGTOOL_ROOT/oci:127.0.0.1:5000/test/layered:v1"
fails "rmi of an unknown image fails" img rmi nosuch

printf 'junk' > "$IMGTOOL_ROOT/oci/blobs/sha256/$(printf junk | sha256sum | cut -d' ' -f1)"
like "prune removes an unreferenced blob" "$(img prune)" 'Deleted 1 blobs'
is "and keeps what an image uses" "$(nblobs)" 5
ok "the layered image still inspects after prune" img inspect 127.0.0.1:5000/test/layered:v1

# Unpacked layers (snapshots) go with the last image and container using them.
nsnap () { find "$IMGTOOL_ROOT/snapshots" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]*' | wc -l; }
ok "a container of the layered image runs (and stays)" img run --network none --name keep 127.0.0.1:5000/test/layered:v1 true
is "its three layers are unpacked" "$(nsnap)" 3
json=$(img ps -a --format json)
is "ps --format json: one JSON object per container" "$(jq -c 'type' <<<"$json")" '"object"'
is "with docker's fields" "$(jq -c 'keys' <<<"$json")" \
  '["Command","CreatedAt","ID","Image","Labels","LocalVolumes","Mounts","Names","Networks","Ports","RunningFor","Size","State","Status"]'
is "its values" "$(jq -r '[.Names, .State, (.ID | length), .Command, .Size] | join(" ")' <<<"$json")" \
  'keep exited 12 "true" 0B'
out=$(img ps -a)
like "ps: docker's default table" "$out" '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES'$'\n''[0-9a-f]{12} +127.0.0.1:5000/test/layered:v1 +"true" +.* keep$'
# CREATED and STATUS are relative times: a second may turn between two
# listings, so the table is compared with the default listing taken right
# before it, or, when that second turned, with the one right after
table=$(img ps -a --format table)
after=$(img ps -a)
[ "$table" = "$after" ] && out=$after
is "ps --format table is that default table" "$table" "$out"
img prune > /dev/null
is "prune keeps the snapshots of an image" "$(nsnap)" 3

# rmi of an image containers use (docker's conflicts and messages).
L=127.0.0.1:5000/test/layered:v1
lid=$(img inspect -f '{{.Id}}' "$L"); lid=${lid:7:12}
kid=$(img ps -a -q)
fails "rmi of the image a stopped container uses fails" img rmi "$L"
is "as docker says" "$LAST_OUT" \
  "imgtool: conflict: unable to remove repository reference \"$L\" (must force) - container $kid is using its referenced image $lid"
fails "by ID too" img rmi "$lid"
is "as docker says" "$LAST_OUT" \
  "imgtool: conflict: unable to delete $lid (must be forced) - image is being used by stopped container $kid"
ok "a running container of it" img run -d --network none --name busy "$L" sleep 1000
rid=$(img ps -q)
fails "rmi by ID of the image a running container uses fails" img rmi "$lid"
is "as docker says" "$LAST_OUT" \
  "imgtool: conflict: unable to delete $lid (cannot be forced) - image is being used by running container $rid"
fails "even with -f" img rmi -f "$lid"
like "cannot be forced" "$LAST_OUT" "cannot be forced"
ok "the image is still there" img inspect "$L"
ok "rm -f the running one" img rm -f busy
before=$(nblobs)
is "rmi -f untags the image the stopped container uses" "$(img rmi -f "$L")" "Untagged: $L"
fails "its name is gone" img inspect "$L"
is "but not the blobs the container's image holds" "$(nblobs)" "$before"
img prune > /dev/null
is "prune keeps the snapshots a container still uses" "$(nsnap)" 3
is "and its image's blobs" "$(nblobs)" "$before"
ok "the container is still there" img inspect --type container keep
ok "rm the container" img rm keep
out=$(img prune)
like "prune then removes them" "$out" 'Deleted 3 unpacked layers'
like "and the image's blobs" "$out" "Deleted $before blobs"
is "no snapshot is left" "$(nsnap)" 0
is "nor blob" "$(nblobs)" 0
done_testing
