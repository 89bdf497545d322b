#!/usr/bin/python3
"""Test helper (not part of the product): make a zstd:chunked image as
containers/storage >= 1.45 writes it, independently of imgtool, into an
OCI image layout: one layer of the files under SRC_DIR (every entry owned
by 0:0, dated 2023-11-14), each regular file's content in a zstd frame of
its own, each run of tar headers in another, then the TOC, the tar-split
and the 64-byte footer in skippable frames; the layer descriptor carries
the io.github.containers.zstd-chunked.* annotations.

  zstd-chunked.py [--lie-digest NAME] [--lie-offset NAME] SRC_DIR LAYOUT TAG

--lie-digest NAME: the TOC gives NAME the digest of another file of the
layer (the first other regular file); --lie-offset NAME: the TOC points
NAME at another file's frame. Prints the layer's digest and diff_id.
Needs libzstd (ctypes)."""
import argparse
import base64
import ctypes
import hashlib
import io
import json
import os
import struct
import tarfile

MTIME = 1699920000  # 2023-11-14
zstd = ctypes.CDLL("libzstd.so.1")
zstd.ZSTD_compressBound.restype = ctypes.c_size_t
zstd.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
zstd.ZSTD_compress.restype = ctypes.c_size_t
zstd.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                               ctypes.c_size_t, ctypes.c_int]
zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]


def compress(data):
    cap = zstd.ZSTD_compressBound(len(data))
    out = ctypes.create_string_buffer(cap)
    n = zstd.ZSTD_compress(out, cap, data, len(data), 3)
    if zstd.ZSTD_isError(n):
        raise RuntimeError("zstd failed")
    return out.raw[:n]


def skippable(payload):
    return struct.pack("<II", 0x184D2A50, len(payload)) + payload


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def walk(src):
    out = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(dirs + files):
            p = os.path.join(root, name)
            if name in files or not os.path.isdir(p):
                out.append(p)
            else:
                out.append(p)
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lie-digest", default="")
    ap.add_argument("--lie-offset", default="")
    ap.add_argument("src")
    ap.add_argument("layout")
    ap.add_argument("tag")
    a = ap.parse_args()

    blob = io.BytesIO()
    tar = hashlib.sha256()
    entries, split = [], []
    pending = b""  # tar bytes not yet in a frame (headers, padding)

    def flush():
        nonlocal pending
        if pending:
            split.append({"type": 2, "payload": base64.b64encode(pending).decode()})
            blob.write(compress(pending))
            tar.update(pending)
            pending = b""

    for p in walk(a.src):
        rel = os.path.relpath(p, a.src)
        st = os.lstat(p)
        ti = tarfile.TarInfo(rel)
        ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = MTIME, 0, 0, "", ""
        ti.mode = st.st_mode & 0o7777
        e = {"name": rel, "mode": ti.mode, "uid": 0, "gid": 0,
             "modtime": "2023-11-14T00:00:00Z"}
        data = b""
        if os.path.islink(p):
            ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(p)
            e.update(type="symlink", linkName=ti.linkname)
        elif os.path.isdir(p):
            ti.type = tarfile.DIRTYPE
            e.update(type="dir")
        else:
            data = open(p, "rb").read()
            ti.size = len(data)
            e.update(type="reg", size=len(data))
        pending += ti.tobuf(format=tarfile.PAX_FORMAT)
        if data:
            flush()
            off = blob.tell()
            blob.write(compress(data))
            e.update(digest=sha(data), offset=off, endOffset=blob.tell())
            split.append({"type": 1, "name": rel, "size": len(data)})
            tar.update(data)
            pad = (512 - len(data) % 512) % 512
            pending += b"\0" * pad
        entries.append(e)
    pending += b"\0" * 1024
    flush()

    regs = [e for e in entries if e["type"] == "reg"]
    for name, key in ((a.lie_digest, "digest"), (a.lie_offset, "offset")):
        if not name:
            continue
        e = next(x for x in regs if x["name"] == name)
        other = next(x for x in regs if x["name"] != name)
        e[key] = other[key]
        if key == "offset":
            e["endOffset"] = other["endOffset"]

    for i, s in enumerate(split):
        s["position"] = i
    ts_raw = "".join(json.dumps(s) + "\n" for s in split).encode()
    ts = compress(ts_raw)
    toc_raw = json.dumps({"version": 1, "entries": entries,
                          "tarSplitDigest": sha(ts)}).encode()
    toc = compress(toc_raw)
    toc_off = blob.tell() + 8
    blob.write(skippable(toc))
    ts_off = blob.tell() + 8
    blob.write(skippable(ts))
    blob.write(skippable(struct.pack("<QQQQQQQ", toc_off, len(toc), len(toc_raw), 1,
                                     ts_off, len(ts), len(ts_raw)) + b"GNUlInUx"))
    layer = blob.getvalue()
    diff_id = "sha256:" + tar.hexdigest()

    os.makedirs(os.path.join(a.layout, "blobs", "sha256"), exist_ok=True)

    def put(b):
        d = sha(b)
        with open(os.path.join(a.layout, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(b)
        return {"digest": d, "size": len(b)}

    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "config": {"Cmd": ["/bin/true"]},
                      "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    man = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **put(cfg)),
        "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar+zstd", **put(layer),
                        annotations={
            "io.github.containers.zstd-chunked.manifest-checksum": sha(toc),
            "io.github.containers.zstd-chunked.manifest-position":
                "%d:%d:%d:1" % (toc_off, len(toc), len(toc_raw)),
            "io.github.containers.zstd-chunked.tarsplit-position":
                "%d:%d:%d" % (ts_off, len(ts), len(ts_raw))})]}).encode()
    md = put(man)
    with open(os.path.join(a.layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    ip = os.path.join(a.layout, "index.json")
    index = json.load(open(ip)) if os.path.exists(ip) else {"schemaVersion": 2, "manifests": []}
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != a.tag]
    index["manifests"].append(dict(mediaType="application/vnd.oci.image.manifest.v1+json", **md,
                                   annotations={"org.opencontainers.image.ref.name": a.tag}))
    with open(ip, "w") as f:
        json.dump(index, f)
    print(sha(layer), diff_id)


if __name__ == "__main__":
    main()
