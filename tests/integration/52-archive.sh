#!/bin/bash
# imgtool save, load and import: docker-archive (docker 25's layout) and
# oci-archive, checked with python's tarfile and sha256, against skopeo
# and podman as oracles (each loads and runs what the other saved), and
# docker's semantics for names (RepoTags, moved tags, images by ID).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/env.sh"

PY=/usr/bin/python3
W=$T_TMP/w
mkdir -p "$W"
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "busybox in the store (made without imgtool)" img inspect busybox
BB_ID=$(img images -q | head -1)
BB_FULL_ID=$(img inspect --format '{{.Id}}' busybox 2>/dev/null || img inspect busybox | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["Id"])')
DIFF=$(img inspect busybox | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["RootFS"]["Layers"][0])')

# archive.py FILE: manifest.json, index.json and every layer's sha256 as
# python's tarfile reads them (an independent tar reader).
cat > "$W/archive.py" <<'PY'
import hashlib, json, sys, tarfile
t = tarfile.open(sys.argv[1])
names = t.getnames()
def read(n): return t.extractfile(n).read()
what = sys.argv[2]
if what == "manifest":
    m = json.loads(read("manifest.json"))
    for it in m:
        print(it["Config"], json.dumps(it["RepoTags"]), " ".join(it["Layers"]))
elif what == "layers-ok":
    # each manifest.json layer hashes to the diff_id its config lists
    m = json.loads(read("manifest.json"))
    bad = 0
    for it in m:
        cfg = json.loads(read(it["Config"]))
        for path, diff in zip(it["Layers"], cfg["rootfs"]["diff_ids"]):
            got = "sha256:" + hashlib.sha256(read(path)).hexdigest()
            bad += got != diff or path != "blobs/sha256/" + diff[7:]
    print("bad", bad)
elif what == "count":
    print(sum(1 for n in names if n == sys.argv[3]))
elif what == "index":
    ix = json.loads(read("index.json"))
    for d in ix["manifests"]:
        a = d.get("annotations", {})
        print(d["digest"], a.get("io.containerd.image.name", "-"), a.get("org.opencontainers.image.ref.name", "-"))
PY
arch () { $PY "$W/archive.py" "$@"; }
img_id () { img inspect "$1" 2>/dev/null | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["Id"])'; }
nimages () { img images -q 2>/dev/null | wc -l; }

# ---- save -----------------------------------------------------------
ok "tag a second name of busybox" img tag busybox busybox:v2
# the busybox layer under another config: a second image sharing it
tar -C "$W" -xf <(img save busybox:latest) "blobs/sha256/${DIFF#sha256:}"
ok "import the same layer with -c (a second image)" \
  img import -c 'CMD ["echo","second"]' "$W/blobs/sha256/${DIFF#sha256:}" second:1
ok "save two images, three names" img save -o "$W/multi.tar" busybox:latest busybox:v2 second:1
is "manifest.json: one entry per image, names together" "$(arch "$W/multi.tar" manifest | cut -d' ' -f2- | sed 's/ blobs.*//' | sort)" \
'["busybox:latest", "busybox:v2"]
["second:1"]'
is "every layer is the plain tar of its diff_id" "$(arch "$W/multi.tar" layers-ok)" "bad 0"
is "the shared layer is in the archive once" "$(arch "$W/multi.tar" count "blobs/sha256/${DIFF#sha256:}")" 1
is "index.json: docker 25's annotations, one entry per name" "$(arch "$W/multi.tar" index | cut -d' ' -f2- | sort)" \
"docker.io/library/busybox:latest latest
docker.io/library/busybox:v2 v2
docker.io/library/second:1 1"
is "repositories" "$(tar -xOf "$W/multi.tar" repositories | $PY -c 'import json,sys; print(sorted((r,sorted(t)) for r,t in json.load(sys.stdin).items()))')" \
"[('busybox', ['latest', 'v2']), ('second', ['1'])]"
ok "skopeo reads it (docker-archive:@1)" skopeo inspect "docker-archive:$W/multi.tar:second:1"
ok "save a name without a tag: every tag of it" img save -o "$W/repo.tar" busybox
is "both tags of busybox" "$(arch "$W/repo.tar" manifest | cut -d' ' -f2- | sed 's/ blobs.*//')" '["busybox:latest", "busybox:v2"]'
ok "save by image ID" img save -o "$W/byid.tar" "$BB_ID"
is "by ID: RepoTags null" "$(arch "$W/byid.tar" manifest | cut -d' ' -f2)" null
img save busybox:latest > "$W/stdout.tar"; rc=$?
is "save to stdout" "$rc" 0
cmp -s "$W/stdout.tar" <(img save busybox:latest) && same=yes || same=no
is "the same bytes again (reproducible)" "$same" yes
ln -s target.tar "$W/link.tar"
img save -o "$W/link.tar" busybox:latest
cmp -s "$W/stdout.tar" "$W/target.tar" && same=yes || same=no
is "-o a symlink writes through it, and it stays" "$same $(stat -c %F "$W/link.tar")" "yes symbolic link"
mkfifo "$W/fifo"
cat "$W/fifo" > "$W/fromfifo.tar" &
img save -o "$W/fifo" busybox:latest; wait
cmp -s "$W/stdout.tar" "$W/fromfifo.tar" && same=yes || same=no
is "-o a fifo writes into it" "$same $(stat -c %F "$W/fifo")" "yes fifo"
out=$($PY -c 'import pty,sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)' "$IMGTOOL" save busybox 2>&1 </dev/null); rc=$?
like "save refuses a terminal" "$out" "cowardly refusing to save to a terminal"
fails "save of an image that is not there" img save -o "$W/none.tar" nosuch:1
is "no file left by a failed save" "$(ls "$W" | grep -c none)" 0
# a stored layer that went bad: inflated straight into a file it can
# seek in (-o, a redirect) or through a temp file (a pipe): one error
cp -a "$IMGTOOL_ROOT" "$T_TMP/badroot"
LAYER=$(img inspect busybox | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["Manifest"]["layers"][0]["digest"])')
printf 'XXXX' | dd of="$T_TMP/badroot/oci/blobs/sha256/${LAYER#sha256:}" bs=1 seek=100000 conv=notrunc 2>/dev/null
out=$(img --root "$T_TMP/badroot" save -o "$W/badsave.tar" busybox:latest 2>&1); rc=$?
like "save of a corrupted stored layer fails" "$rc $out" "^1 imgtool: save to .*: layer $LAYER: "
is "and leaves no file" "$(ls "$W" | grep -c badsave)" 0
img --root "$T_TMP/badroot" save busybox:latest > "$W/badsave-stdout" 2>/dev/null; rc1=$?
img --root "$T_TMP/badroot" save busybox:latest 2>/dev/null | cat > /dev/null; rc2=${PIPESTATUS[0]}
is "to a redirected stdout and to a pipe too" "$rc1 $rc2" "1 1"
rm -rf "$T_TMP/badroot" "$W/badsave-stdout"
ok "save --format oci-archive" img save --format oci-archive -o "$W/oci.tar" busybox:latest
MAN=$(img inspect busybox | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["ManifestDigest"])')
is "skopeo reads the oci-archive: the stored manifest, unchanged" \
  "$(skopeo inspect --format '{{.Digest}}' "oci-archive:$W/oci.tar" 2>&1)" "$MAN"
ok "skopeo copies it" skopeo copy -q "oci-archive:$W/oci.tar" "oci:$W/copied:x"
fails "an unknown --format" img save --format tarball -o "$W/x.tar" busybox

# ---- load -----------------------------------------------------------
export IMGTOOL_ROOT=$T_TMP/root2
out=$(img load -i "$W/multi.tar" 2>&1); rc=$?
is "load" "$rc" 0
is "docker's Loaded image lines" "$out" "Loaded image: busybox:latest
Loaded image: busybox:v2
Loaded image: second:1"
is "the same image ID as saved" "$(img_id busybox:latest)" "$BB_FULL_ID"
is "load runs" "$(img run --rm --network none busybox echo loaded 2>&1)" loaded
is "the second image runs its CMD" "$(img run --rm --network none second:1 2>&1)" second
out=$(img load -i "$W/multi.tar" 2>&1)
is "loading again changes nothing" "$out" "Loaded image: busybox:latest
Loaded image: busybox:v2
Loaded image: second:1"
is "still three names" "$(nimages)" 3

export IMGTOOL_ROOT=$T_TMP/root3
gzip -c "$W/multi.tar" | img load > "$W/out" 2>&1; rc=$?
is "load gzip from stdin" "$rc $(head -1 "$W/out")" "0 Loaded image: busybox:latest"
if command -v zstd >/dev/null; then
  export IMGTOOL_ROOT=$T_TMP/root4
  zstd -q -c "$W/multi.tar" | img load > "$W/out" 2>&1; rc=$?
  is "load zstd from stdin" "$rc $(head -1 "$W/out")" "0 Loaded image: busybox:latest"
fi

export IMGTOOL_ROOT=$T_TMP/root5
ok "an image named busybox:latest already" \
  img import -c 'CMD ["echo","old"]' "$W/blobs/sha256/${DIFF#sha256:}" busybox:latest
OLD=$(img_id busybox:latest)
out=$(img load -i "$W/repo.tar" 2>&1)
is "the tag moves, as docker says it" "$(echo "$out" | head -2)" \
"The image busybox:latest already exists, renaming the old one with ID $OLD to empty string
Loaded image: busybox:latest"
is "busybox:latest is the loaded image" "$(img_id busybox:latest)" "$BB_FULL_ID"
is "the old image is still there, without its name" "$(img images --format '{{.Repository}} {{.ID}}' | grep -c "untagged ${OLD:7:12}" )" 1

export IMGTOOL_ROOT=$T_TMP/root6
is "an archive without names: Loaded image ID" "$(img load -i "$W/byid.tar" 2>&1)" "Loaded image ID: $BB_FULL_ID"
is "the image is kept, findable by ID" "$(img_id "${BB_FULL_ID:7:12}")" "$BB_FULL_ID"

export IMGTOOL_ROOT=$T_TMP/root7
out=$(img load -i "$W/oci.tar" 2>&1); rc=$?
is "load an oci-archive" "$rc $out" "0 Loaded image: busybox:latest"
export IMGTOOL_ROOT=$T_TMP/root
img save --format oci-archive -o "$W/oci2.tar" busybox:latest busybox:v2
export IMGTOOL_ROOT=$T_TMP/root7
is "an oci-archive of two names" "$(img load -i "$W/oci2.tar" 2>&1)" "Loaded image: busybox:latest
Loaded image: busybox:v2"
is "its manifest digest is kept" "$(img inspect busybox | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["ManifestDigest"])')" "$MAN"

# docker <= 24's layout (<v1id>/layer.tar, VERSION, json; config at
# <hex>.json) and the containerd store's (gzip'd layers in manifest.json),
# made from imgtool's archive by python
cat > "$W/relayout.py" <<'PY'
import gzip, hashlib, io, json, sys, tarfile
src, dst, kind = sys.argv[1:4]
t = tarfile.open(src)
m = json.loads(t.extractfile("manifest.json").read())[0]
cfg = t.extractfile(m["Config"]).read()
out = tarfile.open(dst, "w")
def add(name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); out.addfile(ti, io.BytesIO(data))
layers = []
for i, path in enumerate(m["Layers"]):
    data = t.extractfile(path).read()
    if kind == "v24":
        v1 = hashlib.sha256(("v1-%d" % i).encode()).hexdigest()
        add(v1 + "/VERSION", b"1.0"); add(v1 + "/json", b'{"id":"%s"}' % v1.encode())
        add(v1 + "/layer.tar", data); layers.append(v1 + "/layer.tar")
    else:
        gz = gzip.compress(data)
        name = "blobs/sha256/" + hashlib.sha256(gz).hexdigest()
        add(name, gz); layers.append(name)
cname = (hashlib.sha256(cfg).hexdigest() + ".json") if kind == "v24" else m["Config"]
add(cname, cfg)
add("manifest.json", json.dumps([{"Config": cname, "RepoTags": m["RepoTags"], "Layers": layers}]).encode())
out.close()
PY
for kind in v24 containerd; do
  export IMGTOOL_ROOT=$T_TMP/root-$kind
  $PY "$W/relayout.py" "$W/stdout.tar" "$W/$kind.tar" "$kind"
  is "load docker's $kind layout" "$(img load -i "$W/$kind.tar" 2>&1)" "Loaded image: busybox:latest"
  is "$kind: the same image ID" "$(img_id busybox:latest)" "$BB_FULL_ID"
  is "$kind: it runs" "$(img run --rm --network none busybox echo $kind 2>&1)" "$kind"
done
is "containerd's gzip'd layer is stored as it came" \
  "$(img inspect busybox | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["Manifest"]["layers"][0]["mediaType"])')" \
  "application/vnd.oci.image.layer.v1.tar+gzip"

# a corrupted layer and a truncated archive: one error, nothing stored
export IMGTOOL_ROOT=$T_TMP/root8
cp "$W/repo.tar" "$W/bad.tar"
off=$($PY -c 'import tarfile,sys; t=tarfile.open(sys.argv[1]); m=t.getmember(sys.argv[2]); print(m.offset_data+100000)' "$W/bad.tar" "blobs/sha256/${DIFF#sha256:}")
printf 'X' | dd of="$W/bad.tar" bs=1 seek="$off" conv=notrunc 2>/dev/null
out=$(img load -i "$W/bad.tar" 2>&1); rc=$?
is "a corrupted layer fails" "$rc" 1
like "and says which layer" "$out" "invalid diffID for layer 0: expected $DIFF, got sha256:"
is "no image" "$(nimages)" 0
is "no snapshot" "$(ls "$IMGTOOL_ROOT/snapshots" 2>/dev/null | grep -cv '^\.')" 0
head -c $(( $(stat -c %s "$W/repo.tar") / 2 )) "$W/repo.tar" > "$W/cut.tar"
out=$(img load -i "$W/cut.tar" 2>&1); rc=$?
is "a truncated archive fails" "$rc" 1
is "with one line" "$(echo "$out" | wc -l)" 1
is "no image after it" "$(nimages)" 0
is "no snapshot after it" "$(ls "$IMGTOOL_ROOT/snapshots" 2>/dev/null | grep -cv '^\.')" 0
gzip -c "$W/repo.tar" | head -c 300000 > "$W/cut.tgz"
fails "a truncated gzip'd archive fails" img load -i "$W/cut.tgz"
echo '{}' > "$W/notar"
like "not an archive" "$(img load -i "$W/notar" 2>&1)" "^imgtool: load '.*notar'"
tar -C "$W" -cf "$W/nomanifest.tar" archive.py
like "no manifest.json or index.json" "$(img load -i "$W/nomanifest.tar" 2>&1)" "invalid archive: does not contain a manifest.json"
out=$($PY -c 'import pty,sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)' "$IMGTOOL" load 2>&1); rc=$?
like "load refuses a terminal on stdin" "$out" "requested load from stdin, but stdin is empty"

# ---- import ---------------------------------------------------------
export IMGTOOL_ROOT=$T_TMP/root9
gzip -c "$W/blobs/sha256/${DIFF#sha256:}" > "$W/rootfs.tgz"
id=$(cat "$W/rootfs.tgz" | img import -c 'CMD ["/bin/sh","-c","echo $GREETING from $PWD"]' \
  -c 'ENV GREETING=hello' -c 'WORKDIR /tmp' -c 'LABEL a=b' -c 'EXPOSE 8080/udp' -c 'USER 0' \
  -c 'STOPSIGNAL SIGINT' -c 'VOLUME /data' -c 'ONBUILD RUN true' -c 'ENTRYPOINT []' \
  -c 'HEALTHCHECK CMD true' -m 'my message' - base:1 2>&1); rc=$?
is "import from stdin (gzip)" "$rc" 0
like "prints the image ID" "$id" '^sha256:[0-9a-f]{64}$'
is "the layer is the tar (its diff_id)" "$(img inspect base:1 | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["RootFS"]["Layers"])')" "['$DIFF']"
cfg=$(img inspect base:1 | $PY -c '
import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d
c=d["ImageConfig"]; k=c["config"]
print(k["Cmd"], k["Env"], k["WorkingDir"], k["Labels"], sorted(k["ExposedPorts"]), k["User"], k["StopSignal"], sorted(k["Volumes"]), k["OnBuild"], k["Healthcheck"]["Test"])
print(c["comment"], c["history"], c["os"])')
is "-c applied to the config" "$(echo "$cfg" | head -1)" \
"['/bin/sh', '-c', 'echo \$GREETING from \$PWD'] ['GREETING=hello'] /tmp {'a': 'b'} ['8080/udp'] 0 SIGINT ['/data'] ['RUN true'] ['CMD-SHELL', 'true']"
like "-m and one history entry with no created_by" "$(echo "$cfg" | tail -1)" \
"^my message \[\{'comment': 'my message', 'created': '[0-9TZ:-]+'\}\] linux$"
is "the imported image runs" "$(img run --rm --network none base:1 2>&1)" "hello from /tmp"
ok "import a plain tar from a file, no name" img import "$W/blobs/sha256/${DIFF#sha256:}"
is "the default message" "$(img images --format '{{.Repository}}' | grep -c untagged)" 1
if command -v zstd >/dev/null; then
  zstd -q -c "$W/blobs/sha256/${DIFF#sha256:}" > "$W/rootfs.tar.zst"
  ok "import zstd" img import "$W/rootfs.tar.zst" zs:1
  is "zstd: same diff_id" "$(img inspect zs:1 | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["RootFS"]["Layers"][0])')" "$DIFF"
fi
ok "import --platform" img import --platform linux/arm64 "$W/rootfs.tgz" arm:1
is "its platform" "$(img inspect arm:1 | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["Architecture"])')" arm64
n0=$(ls "$IMGTOOL_ROOT/oci/blobs/sha256" | wc -l)
out=$(img import -c 'RUN echo no' "$W/rootfs.tgz" bad:1 2>&1); rc=$?
is "-c RUN is refused" "$rc $out" "1 imgtool: RUN is not a valid change command"
is "nothing stored for it" "$(ls "$IMGTOOL_ROOT/oci/blobs/sha256" | wc -l)" "$n0"
out=$(img import "$W/archive.py" notatar:1 2>&1); rc=$?
is "not a tar: fails" "$rc" 1
fails "no image named notatar" img inspect notatar:1
fails "a missing file" img import "$W/nosuch.tar"
# from a URL (a server on 127.0.0.1 in this test's network namespace)
port=$((20000 + RANDOM % 20000))
(cd "$W" && exec $PY -m http.server --bind 127.0.0.1 "$port") >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
id=$(img import "http://127.0.0.1:$port/rootfs.tgz" fromurl:1 2>&1); rc=$?
is "import from a URL" "$rc" 0
is "its message is the URL" "$(img inspect fromurl:1 | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["ImageConfig"]["comment"])')" \
  "Imported from http://127.0.0.1:$port/rootfs.tgz"
out=$(img import "http://127.0.0.1:$port/nosuch.tgz" x:1 2>&1); rc=$?
like "a URL that is not there" "$rc $out" "^1 imgtool: import 'http.*nosuch.tgz': .*404"
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null

# ---- the peers ------------------------------------------------------
need () { command -v "$1" > /dev/null; }
if [ "$(id -u)" = 0 ] && need podman && need skopeo && peers_env "$T_TMP/peers"; then
  trap peers_cleanup EXIT
  export IMGTOOL_ROOT=$T_TMP/root
  out=$(peers_podman load -i "$W/stdout.tar" 2>&1); rc=$?
  is "podman loads imgtool's docker-archive" "$rc" 0
  is "podman runs it" "$(peers_podman run --rm --network=none docker.io/library/busybox:latest echo from-podman 2>&1)" from-podman
  is "podman sees the same image ID" "$(peers_podman image inspect --format '{{.Id}}' docker.io/library/busybox:latest 2>&1)" "${BB_FULL_ID#sha256:}"
  ok "podman loads imgtool's archive of several images" peers_podman load -i "$W/multi.tar"
  is "podman has the second image" "$(peers_podman run --rm --network=none second:1 2>&1 | tail -1)" second
  ok "podman rmi" peers_podman rmi -a -f
  ok "podman loads imgtool's oci-archive" peers_podman load -i "$W/oci.tar"
  is "and runs it" "$(peers_podman run --rm --network=none docker.io/library/busybox:latest echo oci 2>&1)" oci
  ok "podman save (docker-archive)" peers_podman save -o "$W/podman.tar" docker.io/library/busybox:latest
  ok "podman save (oci-archive)" peers_podman save --format oci-archive -o "$W/podman-oci.tar" docker.io/library/busybox:latest
  for f in podman podman-oci; do
    export IMGTOOL_ROOT=$T_TMP/root-$f
    is "imgtool loads podman's $f archive" "$(img load -i "$W/$f.tar" 2>&1)" "Loaded image: busybox:latest"
    is "and runs it ($f)" "$(img run --rm --network none busybox echo from-$f 2>&1)" "from-$f"
    is "the same image ID ($f)" "$(img_id busybox)" "$BB_FULL_ID"
  done
  ok "skopeo reads imgtool's docker-archive" skopeo inspect "docker-archive:$W/repo.tar:busybox:v2"
else
  skip "podman/skopeo or root missing: peer checks"
fi
done_testing
