#!/bin/bash
# Layer extraction (layers/apply.c, through tests/helpers/unpack-layer)
# compared with the peers: `umoci raw unpack` of a two-layer image made
# from Debian's busybox-static, GNU `tar -x` of single layers, and the
# kernel's overlayfs view of our overlay-whiteout snapshots.
. "$(dirname "$0")/../lib.sh"

UNPACK=${UNPACK:-$(dirname "$IMGTOOL")/tests/helpers/unpack-layer}
W=$T_TMP/w
mkdir -p "$W"
cd "$W" || exit 1

if [ "$(id -u)" != 0 ] || ! command -v umoci >/dev/null || [ ! -x /bin/busybox ]; then
  skip "needs root, umoci and busybox-static"
  done_testing; exit 0
fi

# --- layer 1: busybox, applets, every entry type -------------------------
L1=$W/l1
mkdir -p "$L1"/{bin,etc,data/old,dev,secret,tmp}
cp /bin/busybox "$L1/bin/busybox"
for a in sh ls cat echo true; do ln -s busybox "$L1/bin/$a"; done
ln "$L1/bin/busybox" "$L1/bin/busybox.hard"
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' > "$L1/etc/passwd"
cp /bin/busybox "$L1/bin/su" && chmod 4755 "$L1/bin/su"
echo data > "$L1/data/old/file"; echo x > "$L1/data/keep"; echo gone > "$L1/removed"
chown 1000:1000 "$L1/data/keep"; chmod 0700 "$L1/secret"; chmod 1777 "$L1/tmp"
mknod "$L1/dev/null" c 1 3; chmod 666 "$L1/dev/null"; mkfifo "$L1/dev/fifo"
long=$L1/data/$(printf 'd%.0s' {1..60})/$(printf 'f%.0s' {1..80})
mkdir -p "$(dirname "$long")"; echo long > "$long"
python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.test", b"value")' "$L1/data/keep"
touch -h -d '2020-01-02 03:04:05' "$L1/bin/sh" "$L1/data/old/file" "$L1/data/old" "$L1/data"
TAROPTS=(--format=pax --numeric-owner --xattrs --xattrs-include='user.*' --sort=name)
tar "${TAROPTS[@]}" -C "$L1" -cf l1.tar .
gzip -n -c l1.tar > l1.tar.gz

# --- layer 2: whiteouts, an opaque dir, a replaced file ------------------
L2=$W/l2
mkdir -p "$L2/data"
touch "$L2/.wh.removed" "$L2/data/.wh..wh..opq"
echo new > "$L2/data/new"
mkdir -p "$L2/etc"; echo replaced > "$L2/etc/passwd"
tar "${TAROPTS[@]}" -C "$L2" -cf l2.tar .
gzip -n -c l2.tar > l2.tar.gz
zstd -q -c l2.tar > l2.tar.zst

sha () { sha256sum "$1" | cut -d' ' -f1; }

# --- an OCI image of the two layers, for umoci --------------------------
mkdir -p img/blobs/sha256
echo '{"imageLayoutVersion":"1.0.0"}' > img/oci-layout
for f in l1.tar.gz l2.tar.gz; do cp "$f" "img/blobs/sha256/$(sha $f)"; done
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
  "$(sha l1.tar)" "$(sha l2.tar)" > config.json
cp config.json "img/blobs/sha256/$(sha config.json)"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$(sha config.json)" "$(stat -c %s config.json)" "$(sha l1.tar.gz)" "$(stat -c %s l1.tar.gz)" \
  "$(sha l2.tar.gz)" "$(stat -c %s l2.tar.gz)" > manifest.json
cp manifest.json "img/blobs/sha256/$(sha manifest.json)"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"test"}}]}' \
  "$(sha manifest.json)" "$(stat -c %s manifest.json)" > img/index.json

# A listing of a tree: type, path, mode, owner, size of files, mtime of
# non-directories, symlink target, link count of files, content hash,
# user xattrs. Directory mtimes are compared separately where meaningful.
listing () {
  (cd "$1" && find . -mindepth 1 -printf '%y %p %m %U:%G %s %T@ [%l] %n\n' | sort |
    awk '$1=="d"{$5="-";$6="-";$8="-"} {print}' &&
    find . -type f -print0 | sort -z | xargs -0 -r sha256sum &&
    python3 - <<'EOF'
import os
for dp, dn, fn in sorted(os.walk('.')):
    for n in sorted(dn + fn):
        p = os.path.join(dp, n)
        try:
            for a in sorted(os.listxattr(p, follow_symlinks=False)):
                if a.startswith('user.') or a.startswith('trusted.overlay'):
                    print(p, a, os.getxattr(p, a, follow_symlinks=False))
        except OSError:
            pass
EOF
  )
}

# --- 1. single layers against tar -x ------------------------------------
mkdir -p t1 i1
tar "${TAROPTS[@]}" -xpf l1.tar -C t1
out=$("$UNPACK" i1 l1.tar.gz)
is "diff_id of layer 1 is the sha256 of its tar" "${out%% *}" "sha256:$(sha l1.tar)"
is "blob digest of layer 1" "${out##* }" "sha256:$(sha l1.tar.gz)"
is "layer 1: same tree as tar -x (modes, owners, sizes, mtimes, links, xattrs)" \
  "$(listing i1)" "$(listing t1)"
is "layer 1: directory mtimes kept" "$(stat -c %Y i1/data i1/data/old)" "$(stat -c %Y t1/data t1/data/old)"
like "setuid bit survived chown" "$(stat -c %A i1/bin/su)" '^-rwsr-xr-x'
is "device node kept" "$(stat -c '%F %t:%T' i1/dev/null)" "character special file 1:3"

mkdir -p i1p
out=$("$UNPACK" --chunk 4093 i1p l1.tar.gz)
is "push API in odd-sized chunks gives the same diff_id" "${out%% *}" "sha256:$(sha l1.tar)"
is "push API: same tree" "$(listing i1p)" "$(listing t1)"

mkdir -p z2
out=$("$UNPACK" z2 l2.tar.zst)
is "zstd layer: diff_id" "${out%% *}" "sha256:$(sha l2.tar)"
is "zstd: whiteout became a 0/0 char device" "$(stat -c '%F %t:%T' z2/removed)" "character special file 0:0"
is "zstd: opaque dir marked" \
  "$(python3 -c 'import os; print(os.getxattr("z2/data", "trusted.overlay.opaque"))')" "b'y'"

# --- 2. two layers stacked, against umoci raw unpack --------------------
ok "umoci raw unpack of the image" umoci raw unpack --image img:test u
mkdir -p s
ok "imgtool applies both layers with deleting whiteouts" "$UNPACK" --delete s l1.tar.gz l2.tar.gz
is "stacked layers: same tree as umoci" "$(listing s)" "$(listing u)"
ok "whiteout removed the file" test ! -e s/removed
ok "opaque dir hid the lower children" test ! -e s/data/keep -a -e s/data/new

# --- 3. overlay snapshots mounted by the kernel, against umoci ---------
mkdir -p o1 o2 merged
"$UNPACK" o1 l1.tar.gz >/dev/null && "$UNPACK" o2 l2.tar.gz >/dev/null
merged=$(unshare -m sh -c "mount -t overlay overlay -o ro,lowerdir=$W/o2:$W/o1 $W/merged && cd $W && $(declare -f listing); listing merged" 2>&1)
is "overlay of our two snapshots shows the same tree as umoci" "$merged" "$(listing u)"

# --- 3b. writer threads (layers/applyq.c) give the serial path's tree ------
# Many directories of small files (the threaded path) with varied modes,
# owners, xattrs and times, hard links across directories to files still
# queued, a file past the queue's size limit, a name made twice, whiteouts
# of the layer's own names and of lower ones, symlinks and devices among
# them. Oracles: tar -x (no whiteouts in it) and the serial path (0 writers).
python3 - <<'EOF'
import io, os, tarfile
def reg(t, name, data, mode=0o644, uid=0, gid=0, mtime=1500000000, xattrs=None):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; i.uid = uid; i.gid = gid; i.mtime = mtime
    if xattrs: i.pax_headers = {'SCHILY.xattr.' + k: v for k, v in xattrs.items()}
    t.addfile(i, io.BytesIO(data))
def other(t, name, type, link='', mode=0o755, uid=0, gid=0, mtime=1400000000):
    i = tarfile.TarInfo(name); i.type = type; i.linkname = link; i.mode = mode; i.uid = uid; i.gid = gid
    i.mtime = mtime
    t.addfile(i)
def build(path, whiteouts):
    with tarfile.open(path, 'w', format=tarfile.PAX_FORMAT) as t:
        other(t, 'top', tarfile.DIRTYPE, mode=0o755)
        for d in range(40):
            dn = 'top/d%02d' % d
            other(t, dn, tarfile.DIRTYPE, mode=[0o755, 0o750, 0o2775, 0o700][d % 4], uid=d % 3, gid=d % 5,
                  mtime=1300000000 + d)
            for f in range(30):
                n = '%s/f%02d' % (dn, f)
                reg(t, n, os.urandom((d * 31 + f * 7) % 5000), mode=[0o644, 0o600, 0o755, 0o4755, 0o664, 0o2711][f % 6],
                    uid=1000 + f % 4, gid=100 + d % 2, mtime=1500000000 + d * 100 + f,
                    xattrs={'user.k%d' % f: 'v%d-%d' % (d, f)} if f % 5 == 0 else None)
            other(t, dn + '/sym', tarfile.SYMTYPE, link='f00')
            if d:
                # a hard link to a file of the previous directory, maybe still queued
                other(t, dn + '/hl', tarfile.LNKTYPE, link='top/d%02d/f01' % (d - 1))
            if d % 10 == 3:
                other(t, dn + '/fifo', tarfile.FIFOTYPE, mode=0o600)
        reg(t, 'top/big', os.urandom(3 << 20), mode=0o640, uid=7, gid=8)
        reg(t, 'top/d05/f03', b'made twice: this one wins', mode=0o600, uid=3, gid=4)
        if whiteouts:
            reg(t, 'top/d06/.wh.f04', b'')            # one of ours: ignored
            reg(t, 'top/d07/.wh.lower', b'')          # a lower layer's name
            reg(t, 'top/d08/.wh..wh..opq', b'')       # opaque, after its files
            reg(t, 'top/d09/.wh.lower2', b'')
            reg(t, 'top/d09/lower2', b'made after its whiteout', mode=0o644)
build('many.tar', False)
build('many-wh.tar', True)
EOF
mkdir -p tm; tar "${TAROPTS[@]}" -xpf many.tar -C tm
for n in 0 1 2 4; do
  mkdir -p "m$n" "mw$n"
  "$UNPACK" --writers "$n" "m$n" many.tar > /dev/null 2> "m$n.err" &&
    "$UNPACK" --writers "$n" "mw$n" many-wh.tar > /dev/null 2>> "m$n.err"
  is "$n writer threads: unpacked" "$(cat "m$n.err")" ""
done
# whiteouts (0/0 char devices) get the time they were made
wlisting () { listing "$1" | awk '$1=="c"{$6="-"} {print}'; }
dirs () { (cd "$1" && stat -c '%n %a %Y %u:%g' top top/d* | sort); }
is "serial path: same tree as tar -x" "$(listing m0)" "$(listing tm)"
for n in 1 2 4; do
  is "$n writer threads: same tree as tar -x (modes, owners, times, links, xattrs)" "$(listing "m$n")" "$(listing tm)"
  is "$n writer threads, whiteouts: same tree as the serial path" "$(wlisting "mw$n")" "$(wlisting mw0)"
  is "$n writer threads: directory modes, owners and mtimes" "$(dirs "m$n")" "$(dirs m0)"
done
# (tar -x leaves top/d05's mtime at the time its later f03 was written)
is "directory modes, owners and mtimes as tar -x's" "$(dirs m0 | grep -v '^top/d05 ')" "$(dirs tm | grep -v '^top/d05 ')"
is "hard links share the inode" "$(stat -c %i m2/top/d01/hl)" "$(stat -c %i m2/top/d00/f01)"
like "setuid kept by the writer threads" "$(stat -c %A m2/top/d00/f03)" '^-rwsr-xr-x'
is "the name made twice holds the later file" "$(cat m2/top/d05/f03)" "made twice: this one wins"
is "a whiteout of the layer's own file leaves it" "$(wc -c < mw2/top/d06/f04)" "$(wc -c < m0/top/d06/f04)"
is "a file after its own whiteout replaces it" "$(cat mw2/top/d09/lower2)" "made after its whiteout"

# --- 4. a malicious layer is refused and writes nothing outside ---------
python3 - <<'EOF'
import io, tarfile
def add(t, name, data=b'x', type=tarfile.REGTYPE, link=''):
    i = tarfile.TarInfo(name); i.type = type; i.linkname = link; i.size = len(data) if type == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if type == tarfile.REGTYPE else None)
for n, entries in {
    'dotdot': [('../evil',)],
    'symlink': [('lnk', b'', tarfile.SYMTYPE, '../../..'), ('lnk/evil',)],
    'hardlink': [('hl', b'', tarfile.LNKTYPE, '../victim')],
    'whiteout': [('../.wh.victim',)],
}.items():
    with tarfile.open(f'bad-{n}.tar', 'w', format=tarfile.PAX_FORMAT) as t:
        for e in entries: add(t, *e)
EOF
for n in dotdot symlink hardlink whiteout; do
  mkdir -p "jail-$n/root"; echo victim > "jail-$n/victim"
  "$UNPACK" "jail-$n/root" "bad-$n.tar" >/dev/null 2>"jail-$n.err"
  is "malicious layer '$n': nothing written outside" \
    "$(cd "jail-$n" && find . | sort | grep -v '^./root/' | tr '\n' ' ')" ". ./root ./victim "
  is "malicious layer '$n': victim untouched" "$(cat "jail-$n/victim")" victim
done
like "'..' is refused with a clear error" "$(cat jail-dotdot.err)" "'../evil': path leaves the layer directory"
ok "a symlink pointing out is clamped inside" test -f jail-symlink/root/evil

done_testing
