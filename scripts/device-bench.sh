#!/usr/bin/env bash
# The GPU path against the CPU on all cores, on a machine with a hardware GPU
# and no Rust toolchain (the `device` machine of ../shared/gpu/README.md): the
# figures the README's "On a hardware GPU" section quotes. Every count is
# also checked byte for byte against the CPU's.
#
# Here, in the project root, once (.gl and .device listed in .git/info/exclude):
#   o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#   mkdir -p .gl .device /tmp/amd64/partial; apt-get $o update
#   (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
#   (with libvulkan1 alone, wgpu found no adapter on the H200 machine, 2026-12-04)
#   cargo build --release && strip -o .device/gpucount target/release/gpucount
#   cp ../shared/corpora/les-miserables.txt .device/
#   optional: .device/gpucount-variant (another build, timed beside it) and
#   .device/tests/* (stripped test binaries, their GPU tests run with CI=true
#   on that GPU; `tests` is the integration tests' binary)
# There, in the project root, with .gl (the loaders' .debs) and .device:
#   bash scripts/device-bench.sh            (writes under $OUT, else /tmp/device-bench)
# Fewer steps: BENCH="les-1g" ROUNDS=1 ROUND_INPUTS="les-1g" BIGRAMS="" (names
# of the inputs below; an empty list skips the step).
set -u
out=${OUT:-/tmp/device-bench}
mkdir -p "$out"
sum=$out/summary.txt
say() { echo "$*" | tee -a "$sum"; }
# SMOKE=1: tiny inputs, the machine's own Vulkan: a check of this script.
if [ -z "${SMOKE:-}" ]; then
  for f in .gl/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
  ldconfig
  nv=/usr/local/nvidia
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$nv/share/vulkan/icd.d/nvidia_icd.json}
  export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-$nv/share/glvnd/egl_vendor.d/10_nvidia.json}
  for d in $nv/lib64 $nv/lib; do [ -d "$d" ] && export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}; done
  les=30 big=10 words=50000000 vocab_words=30000000
else
  les=1 big=2 words=100000 vocab_words=100000
fi
g=$PWD/.device/gpucount
v=$PWD/.device/gpucount-variant
TIMEFORMAT=%R
# Steps start only while the script has run under $BUDGET seconds (it must
# end inside the device call's limit, with its figures written).
budget=${BUDGET:-330}
left() { [ "$SECONDS" -lt "$budget" ] || { say "skipped after ${SECONDS} s: $*"; false; }; }

work=/dev/shm/gpucount-bench
[ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 12000000 ] 2>/dev/null || work=/tmp/gpucount-bench
mkdir -p "$work"

{
  nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.current,pcie.link.width.current,clocks.sm,clocks.mem --format=csv
  echo "cores: $(nproc)"; grep -m1 'model name' /proc/cpuinfo; free -g | head -2; df -h "$work" | tail -1
} 2>&1 | tee "$out/machine.txt"
$g devices 2>&1 | tee "$out/devices.txt"
$g devices --format json >"$out/devices.json" 2>&1
if ! grep -q '^gpu 0:' "$out/devices.txt"; then
  { # Why Vulkan found no GPU: the driver's manifest, its library, the loader's own account.
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    ls -l "$(dirname "${VK_DRIVER_FILES:-/x/x}")" 2>&1; cat "${VK_DRIVER_FILES:-/dev/null}" 2>&1
    ldconfig -p | grep -iE 'vulkan|nvidia|GLdispatch' | head -20
    VK_LOADER_DEBUG=error,warn,driver $g devices 2>&1 | head -60
  } | tee -a "$sum"
  exit 1
fi

# Inputs: real English (Les Misérables, repeated) and generated Zipf text.
t0=$SECONDS
for i in $(seq $les); do cat .device/les-miserables.txt; done >"$work/les-100m.txt"
for i in $(seq $big); do cat "$work/les-100m.txt"; done >"$work/les-1g.txt"
$g generate --words $words >"$work/gen-250m.txt"
for i in 1 2 3 4; do cat "$work/gen-250m.txt"; done >"$work/gen-1g.txt"
for i in 1 2 3 4; do cat "$work/gen-1g.txt"; done >"$work/gen-4g.txt"
$g generate --words $vocab_words --vocabulary $((vocab_words / 10)) --exponent 0.9 >"$work/vocab-150m.txt"
rm "$work/gen-250m.txt"
say "inputs made in $((SECONDS - t0)) s: $(cd "$work" && ls -l --block-size=1 | awk 'NR>1{printf "%s %s; ", $9, $5}')"

# The GPU tests on this adapter, where their binaries were carried.
if [ -d .device/tests ]; then
  [ "$PWD" = /work/main ] || { mkdir -p /work && ln -sfn "$PWD" /work/main; }
  mkdir -p target/release && cp "$g" target/release/gpucount
  for t in .device/tests/*; do
    left "tests" || continue
    filter=gpu; [ "$(basename "$t")" = tests ] && filter="gpu:: faults:: exactness::"
    CI=true timeout 120 "$t" --test-threads 4 $filter >"$out/test-$(basename "$t").txt" 2>&1
    say "tests $(basename "$t") (rc $?): $(grep -E '^test result' "$out/test-$(basename "$t").txt" | tail -1)"
  done
fi
# bench: 1 CPU thread, all CPU threads, the GPU; outputs compared; each input
# also saved as a calibration of its own, to read where the GPU starts to win.
for name in ${BENCH-les-100m les-1g gen-1g vocab-150m}; do
  left "bench $name" || continue
  GPUCOUNT_CALIBRATION=$out/calibration-$name.json timeout 150 \
    $g bench --runs 3 --calibrate "$work/$name.txt" >"$out/bench-$name.txt" 2>&1
  say "bench $name (rc $?):"; grep -E '^(input|cpu|gpu) ' "$out/bench-$name.txt" | cut -c1-110 | tee -a "$sum"
done

# Whole runs, interleaved: CPU, GPU, and the variant build's GPU; every
# output compared with a CPU run's, byte for byte.
run() { # label binary input ngram backend
  local label=$1 bin=$2 input=$3 n=$4 backend=$5 s same=same
  s=$( { time timeout 100 "$bin" --backend "$backend" --ngram "$n" --stats "$work/$input.txt" >"$work/out" 2>"$work/stats"; } 2>&1 )
  cmp -s "$work/out" "$work/ref-$input-$n" || same=DIFFERENT
  say "$input ngram $n $label: ${s} s, output $same; $(grep -E '^wall' "$work/stats")"
  { echo "== $input ngram $n $label"; cat "$work/stats"; } >>"$out/stats-$input.txt"
}
for ref in gen-4g:1 les-1g:1 les-1g:2 gen-1g:2; do
  input=${ref%:*} n=${ref#*:}
  timeout 100 $g --backend cpu --ngram "$n" "$work/$input.txt" >"$work/ref-$input-$n" 2>/dev/null
done
trio() { # input ngram: the CPU, the GPU, and the variant build's GPU
  run cpu "$g" "$1" "$2" cpu
  run gpu "$g" "$1" "$2" gpu
  if [ -x "$v" ]; then run gpu-variant "$v" "$1" "$2" gpu; fi
}
for round in $(seq "${ROUNDS:-3}"); do
  for input in ${ROUND_INPUTS-gen-4g les-1g}; do
    left "round $round $input" && trio "$input" 1
  done
done
for input in ${BIGRAMS-gen-1g les-1g}; do
  left "bigrams $input" && trio "$input" 2
done

say "done in $SECONDS s"
