# Sourced by bench/pull.sh, pullrun.sh, unpack.sh and archive.sh: the Debian bookworm
# minbase image (debootstrap, one layer) and a 24-layer image, pushed to the
# lab's plain-HTTP registry once (the registry keeps them; the rootfs tar
# is cached in bench/out/debian.tar).
#
#   bench_fixtures OUT_DIR WORK_DIR     needs LAB_HTTP, debootstrap, umoci, skopeo

_bench_mirror () {
  local m
  m=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources)
  echo "$m"
}

_bench_push_image () { # work, name, layer tars...
  local w=$1 name=$2 t; shift 2
  rm -rf "$w/lay"
  umoci init --layout "$w/lay" && umoci new --image "$w/lay:img"
  for t in "$@"; do umoci raw add-layer --image "$w/lay:img" "$t"; done
  umoci config --image "$w/lay:img" --config.cmd /bin/sh
  skopeo copy -q --dest-tls-verify=false "oci:$w/lay:img" "docker://$LAB_HTTP/$name" >/dev/null
}

bench_fixtures () {
  local out=$1 w=$2 i mirror
  local -a layers=()
  if ! skopeo inspect --tls-verify=false "docker://$LAB_HTTP/bench/debian:bookworm" >/dev/null 2>&1; then
    if [ ! -f "$out/debian.tar" ]; then
      mirror=$(_bench_mirror)
      echo "bench: debootstrap --variant=minbase bookworm from $mirror" >&2
      debootstrap --variant=minbase bookworm "$w/rootfs" "$mirror" >/dev/null
      tar -C "$w/rootfs" --numeric-owner -cf "$out/debian.tar" .
      rm -rf "$w/rootfs"
    fi
    _bench_push_image "$w" bench/debian:bookworm "$out/debian.tar"
  fi
  if ! skopeo inspect --tls-verify=false "docker://$LAB_HTTP/bench/many:latest" >/dev/null 2>&1; then
    for i in $(seq 24); do
      mkdir -p "$w/l$i/data"
      head -c $((600000 + i * 20000)) /dev/urandom > "$w/l$i/data/f$i"
      tar -C "$w/l$i" -cf "$w/l$i.tar" .
      layers+=("$w/l$i.tar")
    done
    _bench_push_image "$w" bench/many:latest "${layers[@]}"
  fi
}

# bench_debian_layer OUT: OUT/layer.tar.gz, a Debian bookworm minbase layer
# (debootstrap, no apt caches; ~48 MB gzip -6, ~120 MB tar), and OUT/img, an
# OCI layout holding it as the image "bench". Made once, then cached.
bench_debian_layer () {
  local OUT=$1 mirror d s diff cd_ md BLOB IMG
  if [ ! -f "$OUT/layer.tar.gz" ]; then
    mirror=$(awk '/^URIs:/{print $2; exit} /^deb /{print $2; exit}' \
      /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)
    rm -rf "$OUT/rootfs"
    debootstrap --variant=minbase bookworm "$OUT/rootfs" "${mirror:-http://deb.debian.org/debian}" > "$OUT/debootstrap.log"
    # as a Debian image layer: no package cache, no lists
    rm -rf "$OUT"/rootfs/var/cache/apt/archives/*.deb "$OUT"/rootfs/var/lib/apt/lists/*
    tar --numeric-owner --xattrs -C "$OUT/rootfs" -cf "$OUT/layer.tar" .
    gzip -6 -n -c "$OUT/layer.tar" > "$OUT/layer.tar.gz"
    rm -f "$OUT/layer.tar"
  fi
  BLOB=$OUT/layer.tar.gz

  # An OCI image around the layer (tag "bench"), for umoci and skopeo.
  IMG=$OUT/img
  if [ ! -f "$IMG/index.json" ]; then
    mkdir -p "$IMG/blobs/sha256"
    d=$(sha256sum "$BLOB" | cut -d' ' -f1); s=$(stat -c %s "$BLOB")
    diff=$(gzip -dc "$BLOB" | sha256sum | cut -d' ' -f1)
    cp "$BLOB" "$IMG/blobs/sha256/$d"
    echo '{"imageLayoutVersion":"1.0.0"}' > "$IMG/oci-layout"
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" > "$OUT/config.json"
    cd_=$(sha256sum "$OUT/config.json" | cut -d' ' -f1); cp "$OUT/config.json" "$IMG/blobs/sha256/$cd_"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
      "$cd_" "$(stat -c %s "$OUT/config.json")" "$d" "$s" > "$OUT/manifest.json"
    md=$(sha256sum "$OUT/manifest.json" | cut -d' ' -f1); cp "$OUT/manifest.json" "$IMG/blobs/sha256/$md"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
      "$md" "$(stat -c %s "$OUT/manifest.json")" > "$IMG/index.json"
  fi
}
