# Sourced by tests and benchmarks that use the peers (podman, buildah, crun,
# skopeo, umoci) as oracles or baselines. Nothing here changes the host
# permanently: the peers get a private config and storage under $PEERS_DIR,
# and podman/crun/buildah run inside a private mount (and network) namespace
# where crun's cgroup check passes. See ../../docs and
# /work/shared/reference/peers.md for why each piece is needed.
#
#   peers_env [DIR]            private containers.conf, storage.conf and state
#                              under DIR (default: a new temp dir); exports
#                              CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
#                              PEERS_DIR, PEERS_CGROUP
#   peers_ns [--host-net] CMD  run a program in a private mount namespace (and
#                              a private network namespace with lo up, unless
#                              --host-net) where crun runs here
#   peers_podman ARGS          podman with the private config, inside peers_ns
#   peers_buildah ARGS         buildah likewise
#   peers_crun ARGS            crun with a private --root, inside peers_ns
#   peers_busybox_layout DIR [TAG]        a minimal busybox OCI image layout
#   peers_bundle LAYOUT TAG BUNDLE [NAME] an OCI runtime bundle for crun
#   peers_podman_load LAYOUT TAG [REF]    the image into podman's storage
#   peers_cleanup              remove PEERS_DIR and the cgroups the peers left
#
# All functions return non-zero with a message on stderr when they fail.

PEERS_LIB=${PEERS_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh}

_peers_die () { echo "peers: $*" >&2; return 1; }

# The capabilities Debian's /usr/share/containers/containers.conf gives.
# CONTAINERS_CONF replaces that file in podman 4.3 instead of merging with
# it, so its defaults are repeated here.
_PEERS_CAPS='"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"'

# min A B
_peers_min () { if [ "$1" = unlimited ]; then echo "$2"; elif [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi; }

peers_env () {
  local dir=${1:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/imgtool-peers.XXXXXX) || return 1
  fi
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd) || return 1
  export PEERS_DIR=$dir
  # One cgroup parent of our own in every hierarchy, so peers_cleanup can
  # remove exactly what these peers made and nothing of anyone else's.
  PEERS_CGROUP=imgtool-peers-$(printf %s "$dir" | sha256sum | cut -c1-12)
  export PEERS_CGROUP
  mkdir -p "$dir/storage" "$dir/run" "$dir/tmp" "$dir/networks" "$dir/crun" || return 1
  # Root here lacks CAP_SYS_RESOURCE: podman's default (nofile 1048576)
  # cannot be set, so ask for what the hard limits allow.
  local nofile nproc
  nofile=$(_peers_min "$(ulimit -Hn)" 20000)
  nproc=$(_peers_min "$(ulimit -Hu)" 32768)
  cat > "$dir/containers.conf" <<EOF
# Private containers.conf for imgtool's tests (tests/peers/env.sh).
[containers]
default_capabilities = [$_PEERS_CAPS]
default_sysctls = ["net.ipv4.ping_group_range=0 0"]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[network]
network_backend = "netavark"
network_config_dir = "$dir/networks"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
tmp_dir = "$dir/tmp"
# file locks under tmp_dir: the shm lock segment (/dev/shm/libpod_lock) is
# shared by every podman of a user, and a new store frees all its locks.
lock_type = "file"
EOF
  cat > "$dir/storage.conf" <<EOF
# Private storage.conf for imgtool's tests (tests/peers/env.sh).
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$dir/run"
EOF
  export CONTAINERS_CONF="$dir/containers.conf"
  export CONTAINERS_STORAGE_CONF="$dir/storage.conf"
  # buildah reads the same two files; its own state is under graphroot.
  export BUILDAH_ISOLATION=oci
}

# Runs inside the new namespaces (see peers_ns). $1: 1 if a new network
# namespace was made.
_peers_ns_setup () {
  set -e
  # crun refuses the cgroup v1 "hybrid" layout while cgroup2 holds any
  # controller. Mounting that controller (hugetlb here) as a v1 hierarchy
  # would satisfy it, but binding a controller to v1 moves it out of cgroup2
  # for the whole machine (cgroup-v2.rst: controllers not bound to a v1
  # hierarchy are bound to v2). So cgroup2 is hidden instead, in this mount
  # namespace only: crun and podman then see plain v1.
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] &&
     [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
     [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers)" ]; then
    mount -t tmpfs -o mode=0755,nosuid,nodev,noexec peers-no-cgroup2 /sys/fs/cgroup/unified
  fi
  # A private /run: crun's and podman's state, /run/netns and
  # /run/containers then vanish with the namespace.
  mount -t tmpfs -o mode=0755,nosuid,nodev peers-run /run
  mkdir -m 1777 /run/lock
  ln -s /dev/shm /run/shm
  if [ "$1" = 1 ]; then ip link set lo up; fi
  set +e
}

peers_ns () {
  local net=(--net) new=1
  if [ "${1:-}" = --host-net ]; then net=() new=0; shift; fi
  # --propagation private: nothing mounted in here reaches the host.
  unshare --mount --propagation private "${net[@]}" -- \
    bash -c "$(declare -f _peers_ns_setup)"'
      _peers_ns_setup "$0" || { echo "peers: namespace setup failed" >&2; exit 125; }
      export PEERS_IN_NS=1
      exec "$@"' "$new" "$@"
}

# peers_enter SCRIPT [ARG...]: as root, run SCRIPT again inside peers_ns
# with a private peers_env (removed when it ends) and exit with its
# status; inside (PEERS_IN_NS set) return at once, so that a benchmark
# starts with `peers_enter "$0" "$@"`.
peers_enter () {
  local self=$1; shift
  [ -z "${PEERS_IN_NS:-}" ] || return 0
  [ "$(id -u)" = 0 ] || { echo "$self: needs root" >&2; exit 1; }
  peers_env || exit 1
  trap peers_cleanup EXIT
  peers_ns bash "$self" "$@"
  exit
}

_peers_need_env () { [ -n "${PEERS_DIR:-}" ] || _peers_die "call peers_env first"; }

# podman and buildah fail on a REGISTRY_AUTH_FILE or DOCKER_CONFIG that does
# not exist (tests/lib.sh names both): leave such ones out. Their defaults
# then are in peers_ns's private /run.
_peers_auth_env () {
  _peers_env=(env)
  if [ -n "${REGISTRY_AUTH_FILE:-}" ] && [ ! -e "$REGISTRY_AUTH_FILE" ]; then
    _peers_env+=(-u REGISTRY_AUTH_FILE)
  fi
  if [ -n "${DOCKER_CONFIG:-}" ] && [ ! -e "$DOCKER_CONFIG/config.json" ]; then
    _peers_env+=(-u DOCKER_CONFIG)
  fi
}

# run and create get --cgroup-parent under PEERS_CGROUP: podman's default
# (/libpod_parent) is shared with every other podman on the machine.
peers_podman () {
  _peers_need_env || return 1
  _peers_auth_env
  case "${1:-}" in
    run | create) local sub=$1; shift
      peers_ns "${_peers_env[@]}" podman "$sub" --cgroup-parent "/$PEERS_CGROUP" "$@" ;;
    *) peers_ns "${_peers_env[@]}" podman "$@" ;;
  esac
}
peers_buildah () { _peers_need_env && _peers_auth_env && peers_ns "${_peers_env[@]}" buildah "$@"; }
peers_crun () { _peers_need_env && peers_ns crun --root "$PEERS_DIR/crun" "$@"; }

# peers_busybox_layout DIR [TAG]: an OCI image layout at DIR holding one
# image (TAG, default latest) of one layer: Debian's static busybox with a
# symlink per applet, /etc/passwd and /etc/group, Cmd ["sh"].
peers_busybox_layout () {
  local dir=$1 tag=${2:-latest}
  "$(dirname "$PEERS_LIB")/../fixtures/busybox-layout.sh" "$dir" "$tag" >/dev/null ||
    _peers_die "make busybox layout '$dir'"
}

# peers_bundle LAYOUT TAG BUNDLE [NAME]: unpack the image into an OCI runtime
# bundle and set it up as imgtool runs containers: mount, pid, uts, ipc,
# cgroup and network namespaces, a cgroup under $PEERS_CGROUP, no terminal,
# args ["true"]. Rewrite .process.args with jq to run something else.
peers_bundle () {
  local layout=$1 tag=$2 bundle=$3 name=${4:-bundle} cfg
  _peers_need_env || return 1
  rm -rf "$bundle"
  umoci unpack --image "$layout:$tag" "$bundle" >/dev/null ||
    _peers_die "umoci unpack '$layout:$tag'" || return 1
  cfg=$(jq --arg cg "/$PEERS_CGROUP/$name" '
      .process.terminal = false
    | .process.args = ["true"]
    | .hostname = "peers"
    | .linux.namespaces = [{"type":"mount"},{"type":"pid"},{"type":"uts"},
                           {"type":"ipc"},{"type":"cgroup"},{"type":"network"}]
    | .linux.cgroupsPath = $cg' "$bundle/config.json") &&
    printf '%s\n' "$cfg" > "$bundle/config.json" ||
    _peers_die "edit '$bundle/config.json'"
}

# peers_bundle_podman LAYOUT TAG BUNDLE [NAME] [REF]: like peers_bundle, but
# with the security settings podman hands crun for REF (default
# docker.io/library/busybox:latest, loaded with peers_podman_load first):
# its 11 capabilities, seccomp filter, masked and read-only paths, rlimits
# and pids limit. podman's own bind mounts (/etc/hosts, /etc/hostname,
# /run/.containerenv) are dropped and /dev/shm becomes a tmpfs. This is the
# crun baseline that does the same security work as imgtool run.
peers_bundle_podman () {
  local layout=$1 tag=$2 bundle=$3 name=${4:-bundle} ref=${5:-docker.io/library/busybox:latest}
  local spec cfg
  peers_bundle "$layout" "$tag" "$bundle" "$name" || return 1
  # podman writes the OCI spec when it initialises a container; take it
  # from there and remove the container again.
  spec=$(peers_ns bash -c '
    id=$(podman create --cgroup-parent "/$PEERS_CGROUP" --network=none "$0" true) || exit 1
    podman init "$id" > /dev/null &&
      cat "$PEERS_DIR/storage/overlay-containers/$id/userdata/config.json"
    rc=$?
    podman rm -f "$id" > /dev/null
    exit $rc' "$ref") || _peers_die "get podman's OCI spec for '$ref'" || return 1
  cfg=$(jq --arg cg "/$PEERS_CGROUP/$name" '
      del(.annotations)
    | .root = {"path": "rootfs", "readonly": false}
    | .hostname = "peers"
    | .process.terminal = false
    | .process.args = ["true"]
    | .process.env |= map(select(startswith("HOSTNAME=") | not))
    | .mounts = [.mounts[] | select(.type != "bind")] + [{"destination": "/dev/shm",
        "type": "tmpfs", "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}]
    | .linux.namespaces = [{"type":"mount"},{"type":"pid"},{"type":"uts"},
                           {"type":"ipc"},{"type":"cgroup"},{"type":"network"}]
    | .linux.cgroupsPath = $cg' <<< "$spec") &&
    printf '%s\n' "$cfg" > "$bundle/config.json" ||
    _peers_die "edit '$bundle/config.json'"
}

# peers_podman_load LAYOUT TAG [REF]: copy the image into podman's private
# storage as REF (default docker.io/library/busybox:latest). Inside peers_ns
# because containers-storage may mount while it stores layers.
peers_podman_load () {
  local layout=$1 tag=$2 ref=${3:-docker.io/library/busybox:latest}
  _peers_need_env || return 1
  peers_ns skopeo copy --quiet "oci:$layout:$tag" "containers-storage:$ref" >/dev/null ||
    _peers_die "skopeo copy 'oci:$layout:$tag' to podman's storage"
}

# peers_busybox_stores: busybox:latest (peers_busybox_layout, at $layout)
# in podman's private storage and in an imgtool store at
# IMGTOOL_ROOT=$PEERS_DIR/imgtool (exported): what a benchmark that times
# both sides on busybox starts from.
peers_busybox_stores () {
  layout=$PEERS_DIR/busybox-layout
  peers_busybox_layout "$layout" latest
  peers_podman_load "$layout" latest docker.io/library/busybox:latest
  export IMGTOOL_ROOT=$PEERS_DIR/imgtool
  mkdir -p "$IMGTOOL_ROOT"
  skopeo copy --quiet "oci:$layout:latest" \
    "oci:$IMGTOOL_ROOT/oci:docker.io/library/busybox:latest" > /dev/null
}

# Remove the peers' cgroups (deepest first; only empty ones go) and
# PEERS_DIR. Safe to call twice.
peers_cleanup () {
  [ -n "${PEERS_DIR:-}" ] || return 0
  local d
  if [ -n "${PEERS_CGROUP:-}" ]; then
    for d in /sys/fs/cgroup/*/"$PEERS_CGROUP" /sys/fs/cgroup/"$PEERS_CGROUP"; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  # Storage may hold files only root can remove after mounts went away.
  rm -rf "$PEERS_DIR" 2>/dev/null
  unset PEERS_DIR
}
