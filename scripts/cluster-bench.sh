#!/usr/bin/env bash
# Wall times of one process and of `gpucount cluster` on one file: medians of
# 3 interleaved runs, outputs checked byte for byte. As root with iproute2,
# also 2 ranks in 2 network namespaces joined by a bridge.
#
#   scripts/cluster-bench.sh FILE        (after cargo build --release)
# e.g. FILE = Les Misérables x100:
#   for i in $(seq 100); do cat ../shared/corpora/les-miserables.txt; done > /tmp/les100.txt
set -euo pipefail
F=${1:?usage: scripts/cluster-bench.sh FILE}
B=${GPUCOUNT:-$(cd "$(dirname "$0")/.." && pwd)/target/release/gpucount}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
want=$("$B" --backend cpu "$F" | md5sum)

# Seconds taken by "$@" (its output checked against one process's).
timed() {
  local s e
  s=$(date +%s.%N)
  "$@" > "$tmp/out"
  e=$(date +%s.%N)
  [ "$(md5sum < "$tmp/out")" = "$want" ] || { echo "output differs: $*" >&2; exit 1; }
  echo "$e - $s" | bc
}

runs=("one process:--backend cpu" "one process, -j 1:--backend cpu -j 1"
      "cluster --local 1:cluster --local 1 --backend cpu" "cluster --local 2:cluster --local 2 --backend cpu"
      "cluster --local 4:cluster --local 4 --backend cpu" "cluster --local 2 -j 1:cluster --local 2 -j 1 --backend cpu")
declare -A times
for round in 1 2 3; do
  for r in "${runs[@]}"; do
    # shellcheck disable=SC2086
    times[${r%%:*}]+=" $(timed "$B" ${r#*:} "$F")"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | sed -n 2p; }
for r in "${runs[@]}"; do
  echo "${r%%:*}: $(echo "${times[${r%%:*}]}" | median) s (runs:${times[${r%%:*}]})"
done

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  echo "network namespaces: skipped (needs root and iproute2)"
  exit 0
fi
T=gcb$$
cleanup() { for n in r0 r1 h; do ip netns del "$T$n" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
ip netns add "${T}h"; ip -n "${T}h" link add br0 type bridge; ip -n "${T}h" link set br0 up
: > "$tmp/hosts"
for i in 0 1; do
  ip netns add "${T}r$i"
  ip -n "${T}h" link add "v$i" type veth peer name eth0 netns "${T}r$i"
  ip -n "${T}h" link set "v$i" master br0 up
  ip -n "${T}r$i" addr add "10.213.77.$((i + 1))/24" dev eth0
  ip -n "${T}r$i" link set eth0 up
  ip -n "${T}r$i" link set lo up
  echo "10.213.77.$((i + 1)):7000" >> "$tmp/hosts"
done
ns=""
for round in 1 2 3; do
  ip netns exec "${T}r1" "$B" cluster --backend cpu --hosts "$tmp/hosts" --rank 1 "$F" > /dev/null &
  ns+=" $(timed ip netns exec "${T}r0" "$B" cluster --backend cpu --hosts "$tmp/hosts" --rank 0 "$F")"
  wait
done
echo "2 ranks in 2 network namespaces: $(echo "$ns" | median) s (runs:$ns)"
ip netns exec "${T}r1" "$B" cluster --backend cpu --hosts "$tmp/hosts" --rank 1 "$F" > /dev/null &
ip netns exec "${T}r0" "$B" cluster --backend cpu --hosts "$tmp/hosts" --rank 0 --stats "$F" 2>&1 > /dev/null | grep '  rank '
wait
