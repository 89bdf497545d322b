#!/bin/bash
# imgtool info: what it counts and reports, checked against the store, the
# config file and the kernel it describes.
. "$(dirname "$0")/../lib.sh"

R=$IMGTOOL_ROOT
trap kill_recorded_containers EXIT

echo '{"insecure-registries": ["127.0.0.1:5999"], "registry-mirrors": ["http://127.0.0.1:5998"]}' \
  > "$IMGTOOL_CONFIG"
out=$(img info)
like "doc:info-counts no containers" "$out" $'^Containers: 0\n Running: 0\n Paused: 0\n Stopped: 0\n'
like "no images" "$out" $'\nImages: 0\n'
like "doc:info-root the store root" "$out" $'\nRoot Dir: '"$R"$'\n Size: [0-9.]+k?B'
like "doc:info-config the config file in use" "$out" $'\nConfig File: '"$IMGTOOL_CONFIG"$'\n'
like "its mirrors" "$out" $'\nRegistry Mirrors:\n docker.io: http://127.0.0.1:5998\n'
like "its insecure registries" "$out" $'\nInsecure Registries:\n 127.0.0.1:5999\n'
case $(stat -fc %T /sys/fs/cgroup) in
  cgroup2fs) want=2 ;; tmpfs) want=1 ;; *) want=none ;;
esac
is "doc:info-host the cgroup version, as mounted" "$(img info --format '{{.CgroupVersion}}')" "$want"
if [ "$want" = 1 ]; then
  like "the v1 controllers, as /proc/cgroups enables them" "$out" 'Cgroup Controllers:.* memory'
fi
like "seccomp" "$out" $'\nSecurity Options:\n name=seccomp,profile=builtin'
like "overlay" "$out" $'\nStorage Driver: overlay\n Supported: true'
like "root is not rootless" "$out" $'\nRootless: false'
is "the kernel" "$(img info --format '{{.KernelVersion}}')" "$(uname -r)"
is "--format json is one object" \
  "$(img info --format json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["NCPU"], d["RootDir"])')" \
  "$(nproc) $R"
fails "info takes no argument" img info x

"$TESTS_DIR/fixtures/busybox-oci.sh" "$R" >/dev/null 2>&1
img tag busybox other:1
img run -d --network none --name info-up busybox sleep 1000 >/dev/null
img run --network none --name info-done busybox true >/dev/null
out=$(img info)
like "one running, one stopped" "$out" $'^Containers: 2\n Running: 1\n Paused: 0\n Stopped: 1\n'
like "two names of one image count once" "$out" $'\nImages: 1\n'
echo '{' > "$IMGTOOL_CONFIG"
ok "a config that is not JSON: info still runs" img info
like "and says what is wrong with the config" "$(img info 2>&1)" $'\n Error: config '
img rm -f info-up info-done >/dev/null
done_testing
