#!/usr/bin/env bash
# Runs the whole NativeEE test suite the way CI does, on every ISA path:
#   1. all tests natively (widest path this CPU has: AVX-512 or AVX2+FMA or NEON);
#   2. all tests with AVX-512 switched off (DOTNET_EnableAVX512=0 → AVX2+FMA, Vector256; .NET 10 ignores
#      the older DOTNET_EnableAVX512F=0 — IsaTests caught that silent fallback, so both are set);
#   3. all tests with AVX2 switched off (DOTNET_EnableAVX2=0 → SSE, Vector128);
#   4. kernel tests with hardware intrinsics off (DOTNET_EnableHWIntrinsic=0 → scalar);
#   5. kernel tests for linux-arm64 under qemu-aarch64 (NEON / AdvSimd).
# Ends with one line "N passed, N failed" counted from the TRX result files; exits non-zero on any failure.
# Options: --quick (native run only), --no-arm64 (skip the qemu run, reported as a failure-free skip line).
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
results="$root/TestResults"
rm -rf "$results"; mkdir -p "$results"
quick=0; arm64=1
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --no-arm64) arm64=0 ;;
    *) echo "unknown option: $a (use --quick, --no-arm64)" >&2; exit 2 ;;
  esac
done

shared="${NATIVEEE_SHARED:-$root/../shared}"
if [ ! -f "$shared/models/minilm-sst2-ee/model.safetensors" ]; then
  echo "error: shared test material not found at $shared (expected ../shared beside the repo, or set NATIVEEE_SHARED)" >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
has_avx512=0; has_avx2=0
if grep -q avx512bw /proc/cpuinfo 2>/dev/null; then has_avx512=1; fi
if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then has_avx2=1; fi
arch=$(uname -m)

echo "== build (Release, warnings are errors)"
dotnet build NativeEE.sln -c Release -nologo -v q -clp:NoSummary

run_mode() { # name expected-isa projects... ; env is set by the caller
  local name=$1 isa=$2; shift 2
  echo "== tests: $name (expecting ISA path $isa)"
  local p
  for p in "$@"; do
    NATIVEEE_EXPECT_ISA=$isa dotnet test "$p" -c Release --no-build --nologo \
      --logger "trx;LogFileName=$name-$(basename "$p").trx" --results-directory "$results" -- || true
  done
}

all=(tests/NativeEE.Kernels.Tests tests/NativeEE.Tests)
if [ "$arch" = "aarch64" ]; then native=Vector128
elif [ $has_avx512 = 1 ]; then native=Vector512
elif [ $has_avx2 = 1 ]; then native=Vector256
else native=Vector128; fi
run_mode native "$native" "${all[@]}"
# The CLI tests load the real model many times: natively only (the other ISA modes are covered by the engine tests).
run_mode native "$native" tests/NativeEE.Cli.Tests

if [ $quick = 0 ] && [ "$arch" = "x86_64" ]; then
  if [ $has_avx512 = 1 ]; then
    DOTNET_EnableAVX512F=0 DOTNET_EnableAVX512=0 run_mode no-avx512 Vector256 "${all[@]}"
  fi
  DOTNET_EnableAVX2=0 run_mode no-avx2 Vector128 "${all[@]}"
  DOTNET_EnableHWIntrinsic=0 run_mode scalar Scalar tests/NativeEE.Kernels.Tests
fi

if [ $quick = 0 ] && [ $arm64 = 1 ] && [ "$arch" = "x86_64" ]; then
  echo "== tests: arm64 kernel tests under qemu (expecting ISA path Vector128 = NEON)"
  bash .ci/test-arm64 "$results" || true # a run that did not finish leaves no TRX: counted below
fi

# The shipped binary: Native AOT with zero trim/AOT warnings, then classify on the shared model.
echo "== publish: nee (Native AOT, linux-$( [ "$arch" = aarch64 ] && echo arm64 || echo x64))"
aot_failed=0
rid=linux-x64; [ "$arch" = "aarch64" ] && rid=linux-arm64
if dotnet publish tools/NativeEE.Cli -c Release -r $rid -nologo -o "$root/artifacts/nee" > "$results/nee-publish.log" 2>&1; then
  warnings=$(grep -cE ' warning [A-Z]+[0-9]+' "$results/nee-publish.log" || true)
  echo "   nee published ($(du -h "$root/artifacts/nee/nee" | cut -f1)), $warnings trim/AOT warnings"
  [ "$warnings" = 0 ] || aot_failed=1
  label=$("$root/artifacts/nee/nee" classify --model "$shared/models/minilm-sst2-ee" "a gripping, funny film" | cut -d' ' -f1) || true
  echo "   nee classify → ${label:-nothing}"
  [ "$label" = "positive" ] || aot_failed=1
else
  tail -20 "$results/nee-publish.log"
  aot_failed=1
fi

# Count from the TRX files (the real results), then print the one closing line.
passed=0; failed=0; files=0
for f in "$results"/*.trx; do
  [ -e "$f" ] || continue
  files=$((files + 1))
  c=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$c"); p=${p:-0}
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$c"); t=${t:-0}
  fl=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$c"); fl=${fl:-0}
  er=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$c"); er=${er:-0}
  to=$(sed -n 's/.* timeout="\([0-9]*\)".*/\1/p' <<<"$c"); to=${to:-0}
  ab=$(sed -n 's/.* aborted="\([0-9]*\)".*/\1/p' <<<"$c"); ab=${ab:-0}
  nr=$((t - p - fl - er - to - ab))
  printf '   %-60s passed %5d  failed %3d  other %3d\n' "$(basename "$f")" "$p" "$fl" "$((er + to + ab))"
  passed=$((passed + p)); failed=$((failed + fl + er + to + ab))
  [ $nr -ge 0 ] || true
done
expected_files=3
if [ $quick = 0 ] && [ "$arch" = "x86_64" ]; then
  expected_files=$((3 + 2 + 1 + ($has_avx512 == 1 ? 2 : 0) + ($arm64 == 1 ? 1 : 0)))
fi
failed=$((failed + aot_failed))
if [ $files -lt $expected_files ]; then
  echo "error: expected $expected_files TRX result files, found $files (a test run crashed before writing results)"
  failed=$((failed + expected_files - files))
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
