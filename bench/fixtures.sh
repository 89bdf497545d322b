# Sourced by bench/pull.sh and bench/pullrun.sh: the Debian bookworm
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
