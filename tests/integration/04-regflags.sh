#!/bin/bash
# The registry options shared by pull, push, copy, build, run and login
# (cmd/regflags.c): each command takes the same values and refuses the same
# bad ones with one line on stderr that names the value, nothing on stdout,
# exit 2 (run: 125, as docker). Good values are checked with --help after
# them: the options are parsed in order, and --help stops before any work.
. "$(dirname "$0")/../lib.sh"

bad () { # what, exit status, stderr ERE, imgtool args...
  local what=$1 want=$2 re=$3 err out rc lines
  shift 3
  err=$(img "$@" 2>&1 >/dev/null </dev/null); rc=$?
  out=$(img "$@" 2>/dev/null </dev/null)
  lines=$(printf '%s\n' "$err" | wc -l)
  if [ "$rc" -eq "$want" ] && [ -z "$out" ] && [ "$lines" -eq 1 ] \
     && [[ "$err" =~ $re ]]; then
    _t_report 0 "$what"
  else
    _t_report 1 "$what"
    echo "#   exit $rc (want $want), stdout '$out', stderr '$err'"
  fi
}

takes () { # what, command, its options...
  local what=$1 c=$2 out rc
  shift 2
  out=$(img "$c" "$@" --help 2>&1 </dev/null); rc=$?
  like "$what" "$rc:$out" "^0:usage: imgtool $c "
}

# --tls-verify[=BOOL]: every command that reaches a registry.
for c in pull push copy build login; do
  takes "$c takes --tls-verify, =true, =1, =false, =0" "$c" \
    --tls-verify --tls-verify=true --tls-verify=1 --tls-verify=false --tls-verify=0
  for v in maybe yes ''; do
    bad "$c --tls-verify='$v': names it, exit 2" 2 \
      "^imgtool: invalid --tls-verify '$v': expected true or false$" \
      "$c" "--tls-verify=$v" a b
  done
done
takes "run takes --tls-verify[=BOOL] and --platform" run \
  --tls-verify --tls-verify=false --tls-verify=1 --platform linux/arm64
for v in maybe yes ''; do
  bad "run --tls-verify='$v': names it, exit 125" 125 \
    "^imgtool: invalid --tls-verify '$v': expected true or false$" \
    run "--tls-verify=$v" busybox true
done
takes "copy takes --src-tls-verify and --dest-tls-verify" copy \
  --src-tls-verify --src-tls-verify=false --dest-tls-verify=0 --dest-tls-verify
for o in src dest; do
  bad "copy --$o-tls-verify=maybe: names it, exit 2" 2 \
    "^imgtool: invalid --$o-tls-verify 'maybe': expected true or false$" \
    copy "--$o-tls-verify=maybe" a b
done

# --jobs N, -j N: 1 to 64.
for c in pull push copy; do
  takes "$c takes --jobs 1, -j 64, --jobs=8, -j2" "$c" --jobs 1 -j 64 --jobs=8 -j2
  for v in 0 65 -1 x 5x ''; do
    bad "$c --jobs '$v': names it, exit 2" 2 \
      "^imgtool: invalid --jobs '$v': expected a number from 1 to 64$" \
      "$c" --jobs "$v" a b
  done
  bad "$c -j without a value" 2 "^imgtool: $c: option '-j' needs a value" "$c" -j
done

# --platform, --cert-dir: a value each.
for c in pull push copy build run; do
  want=2; [ "$c" = run ] && want=125
  takes "$c takes --platform P, --platform=P" "$c" --platform linux/arm64 --platform=linux/amd64
  bad "$c --platform without a value: exit $want" "$want" \
    "^imgtool: $c: option '--platform' needs a value" "$c" --platform
done
for c in pull push login; do
  takes "$c takes --cert-dir DIR" "$c" --cert-dir "$T_TMP" --cert-dir="$T_TMP"
  bad "$c --cert-dir without a value" 2 "^imgtool: $c: option '--cert-dir' needs a value" \
    "$c" --cert-dir
done
bad "copy has no --cert-dir" 2 "^imgtool: copy: unknown option '--cert-dir'" \
  copy --cert-dir "$T_TMP" a b

# --all, --all-platforms, -a, -q, --quiet: no value.
takes "pull takes -a, --all-tags, --all-platforms, -q, --quiet" pull -a --all-tags --all-platforms -q --quiet
takes "push takes -a, --all, --all-platforms, -q, --quiet" push -a --all --all-platforms -q --quiet
takes "copy takes -a, --all, -q, --quiet" copy -a --all -q --quiet
takes "build takes -q, --quiet" build -q --quiet
# a flag is a boolean, as docker's: --flag=true|false|1|0, nothing else
takes "push takes --all=1, --all=false, --quiet=0" push --all=1 --all=false --quiet=0
bad "push --all=x: names it, exit 2" 2 "^imgtool: invalid --all 'x': expected true or false$" \
  push --all=x a
bad "pull --all-platforms=x: names it, exit 2" 2 \
  "^imgtool: invalid --all-platforms 'x': expected true or false$" pull --all-platforms=x a
bad "copy has no --all-platforms" 2 "^imgtool: copy: unknown option '--all-platforms'" \
  copy --all-platforms a b
bad "build --quiet=maybe: names it, exit 2" 2 \
  "^imgtool: invalid --quiet 'maybe': expected true or false$" build --quiet=maybe .
bad "run has no --jobs (exit 125)" 125 "^imgtool: run: unknown option '--jobs'" \
  run --jobs 2 busybox
done_testing
