#!/bin/bash
# What a container sees, imgtool against podman for the same busybox image:
# capabilities, seccomp, no_new_privs, masked and read-only paths, the
# mounts and the pids limit. podman's view is checked against what
# reference/peers.md says and printed as TAP diagnostics; imgtool's must be
# equal or stricter. Both run inside network namespaces made here.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/env.sh"

# Run in the container with busybox's sh: prints key=value lines.
# A masked path is over-mounted and reads (or lists) empty; a read-only path
# is a mount point with the ro flag.
PROBE='
st () { sed -n "s/^$1:[[:space:]]*//p" /proc/self/status; }
for k in CapInh CapPrm CapEff CapBnd CapAmb Seccomp NoNewPrivs; do echo "$k=$(st $k)"; done
mnt () { awk -v p="$1" '"'"'$5 == p { o = $6 } END { print o }'"'"' /proc/self/mountinfo; }
for p in /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
         /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/fs/selinux \
         /sys/dev/block; do
  if [ ! -e "$p" ]; then s=absent
  elif [ -z "$(mnt "$p")" ]; then s=visible
  elif [ -d "$p" ]; then if [ -z "$(ls -A "$p" 2>/dev/null)" ]; then s=masked; else s=visible; fi
  elif [ -z "$(head -c 1 "$p" 2>/dev/null)" ]; then s=masked
  else s=visible; fi
  echo "mask:$p=$s"
done
for p in /proc/asound /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do
  o=$(mnt "$p")
  if [ ! -e "$p" ]; then s=absent
  else case ",$o," in *,ro,*) s=ro ;; *) s=rw ;; esac; fi
  echo "ro:$p=$s"
done
# domainname is per UTS namespace: harmless if the write went through.
if echo probe 2>/dev/null > /proc/sys/kernel/domainname; then echo procsys_write=allowed; else echo procsys_write=denied; fi
if head -c 1 /proc/kcore > /dev/null 2>&1 && [ -n "$(head -c 1 /proc/kcore 2>/dev/null)" ]; then echo kcore_read=data; else echo kcore_read=nothing; fi
echo "firmware_list=$(ls -A /sys/firmware 2>/dev/null | tr "\n" " ")"
awk '"'"'{ for (i = 7; $i != "-"; i++); print "mount:" $5 "=" $(i + 1) " " $6 }'"'"' /proc/self/mountinfo
for f in /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max; do
  if [ -r "$f" ]; then echo "pids_max=$(cat "$f")"; break; fi
done
'

# get KEY FILE: the value of KEY=... in a probe's output.
get () { awk -v k="$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$2"; }
popcount () { [[ "$1" =~ ^[0-9a-f]+$ ]] || { echo none; return; }; local v=$((16#$1)) n=0; while [ "$v" -ne 0 ]; do n=$((n + (v & 1))); v=$((v >> 1)); done; echo $n; }
# Mount point -> "type options", and the mount flags that matter.
flags () { tr ',' '\n' <<< "${1#* }" | grep -xE 'ro|nosuid|nodev|noexec' | sort | tr '\n' ' '; }

need () { command -v "$1" > /dev/null || { skip "$1 not installed"; done_testing; exit; }; }
[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
for p in podman crun skopeo umoci jq unshare; do need $p; done

peers_env "$T_TMP/peers" || { ok "peers environment" false; done_testing; exit 1; }
trap peers_cleanup EXIT   # the peers' cgroups, also if this script dies
layout=$T_TMP/busybox
ok "busybox OCI layout made with umoci" peers_busybox_layout "$layout" latest
ok "busybox loaded into podman's private storage" peers_podman_load "$layout" latest

# ---- podman: the oracle, checked against reference/peers.md -------------
P=$T_TMP/podman.out
peers_podman run --rm --network=none docker.io/library/busybox:latest sh -c "$PROBE" > "$P" 2> "$T_TMP/podman.err"
rc=$?
is "podman runs the probe" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$T_TMP/podman.err" | tail -5
sed 's/^/# podman: /' "$P"
is "podman: 11 capabilities effective" "$(popcount "$(get CapEff "$P")")" 11
is "podman: bounding set = effective" "$(get CapBnd "$P")" "$(get CapEff "$P")"
is "podman: no ambient capabilities" "$(get CapAmb "$P")" 0000000000000000
is "podman: seccomp filter mode" "$(get Seccomp "$P")" 2
is "podman: NoNewPrivs off" "$(get NoNewPrivs "$P")" 0
is "podman: pids.max 2048" "$(get pids_max "$P")" 2048
# Masked where the host has the path (this kernel has no /proc/kcore).
for p in /proc/kcore /proc/keys /proc/timer_list /proc/acpi /sys/firmware /sys/dev/block; do
  if [ -e "$p" ]; then want=masked; else want=absent; fi
  is "podman: $p $want" "$(get "mask:$p" "$P")" $want
done
is "podman: /sys/firmware lists nothing" "$(get firmware_list "$P")" ""
is "podman: /proc/kcore gives nothing" "$(get kcore_read "$P")" nothing
is "podman: /proc/sys read-only" "$(get ro:/proc/sys "$P")" ro
is "podman: /proc/sys write denied" "$(get procsys_write "$P")" denied
like "podman: /sys read-only" "$(flags "$(get mount:/sys "$P")")" '(^| )ro '
like "podman: /proc nosuid,nodev,noexec" "$(flags "$(get mount:/proc "$P")")" '^nodev noexec nosuid'

# ---- imgtool: equal or stricter --------------------------------------------
if ! "$IMGTOOL" run --help > /dev/null 2>&1; then
  skip "imgtool run not available"
  done_testing
  exit
fi
mkdir -p "$IMGTOOL_ROOT"
ok "busybox into imgtool's store" skopeo copy --quiet "oci:$layout:latest" \
  "oci:$IMGTOOL_ROOT/oci:docker.io/library/busybox:latest"
I=$T_TMP/imgtool.out
# A network namespace of the test's own, so nothing imgtool sets up for
# networking can reach the host's.
unshare --net "$IMGTOOL" run --rm --network none busybox sh -c "$PROBE" > "$I" 2> "$T_TMP/imgtool.err"
rc=$?
is "imgtool runs the probe" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$T_TMP/imgtool.err" | tail -5
sed 's/^/# imgtool: /' "$I"

for k in CapEff CapPrm CapBnd CapInh CapAmb; do
  mine=$(get $k "$I") theirs=$(get $k "$P")
  like "imgtool: $k is a capability mask" "$mine" '^[0-9a-f]{16}$'
  # Stricter: no capability podman does not also give.
  is "imgtool: $k within podman's ($theirs)" \
    "$(printf '%016x' $((16#${mine:-ffffffffffffffff} & ~16#$theirs)))" 0000000000000000
done
is "imgtool: seccomp filter mode" "$(get Seccomp "$I")" 2
is "imgtool: NoNewPrivs on" "$(get NoNewPrivs "$I")" 1

pids=$(get pids_max "$I")
like "imgtool: a pids limit" "$pids" '^[0-9]+$'
[[ "$pids" =~ ^[0-9]+$ ]] && ok "imgtool: pids.max $pids <= podman's $(get pids_max "$P")" \
  test "$pids" -le "$(get pids_max "$P")"

while IFS='=' read -r key val; do
  p=${key#mask:}
  [ "$val" = masked ] || continue
  like "imgtool: $p masked as podman masks it" "$(get "$key" "$I")" '^(masked|absent)$'
done < <(grep '^mask:' "$P")
while IFS='=' read -r key val; do
  p=${key#ro:}
  [ "$val" = ro ] || continue
  like "imgtool: $p read-only as in podman" "$(get "$key" "$I")" '^(ro|absent)$'
done < <(grep '^ro:' "$P")
is "imgtool: /proc/sys write denied" "$(get procsys_write "$I")" denied
is "imgtool: /proc/kcore gives nothing" "$(get kcore_read "$I")" nothing
is "imgtool: /sys/firmware lists nothing" "$(get firmware_list "$I")" ""

# Mounts both have: imgtool's flags (ro, nosuid, nodev, noexec) include
# podman's.
while IFS= read -r line; do
  mp=${line%%=*}; mp=${mp#mount:}
  mine=$(get "mount:$mp" "$I")
  [ -n "$mine" ] || continue
  missing=
  for f in $(flags "${line#*=}"); do
    case " $(flags "$mine")" in *" $f "*) ;; *) missing+="$f " ;; esac
  done
  is "imgtool: $mp mounted with podman's flags" "$missing" ""
done < <(grep '^mount:' "$P" | sort -u -t= -k1,1)
# Nothing of the host's disks but the files a container needs, and the
# host's /dev/null over masked files.
host_mounts=$(grep '^mount:' "$I" | grep -vE '=(overlay|proc|sysfs|tmpfs|devpts|mqueue|cgroup|cgroup2) ' |
  grep -vE '^mount:/etc/(hosts|hostname|resolv\.conf)=' | while IFS= read -r line; do
    mp=${line%%=*}; mp=${mp#mount:}
    case "$line" in *=devtmpfs\ *) [ "$(get "mask:$mp" "$I")" = masked ] && continue ;; esac
    printf '%s ' "$line"
  done)
is "imgtool: no host filesystem mounted but /etc/hosts, hostname, resolv.conf" "$host_mounts" ""

done_testing
