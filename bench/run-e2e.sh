#!/usr/bin/env bash
# Regenerates docs/performance.md and the README's performance table from one end-to-end run of NativeEE vs ONNX Runtime (bench/NativeEE.Bench/E2e):
# Release build, the FMA peak, the shared early-exit model on ../shared/data/sst2/test.tsv, the BERT-base shapes,
# the per-op profile, machine facts.
#   bench/run-e2e.sh [--make-bert-base] [e2e options: --repeats N, --policy SPEC|nativeee-policy.json, ...]
# Part 2 needs the BERT-base folder (default ../out/bert-base beside the repo, or $NATIVEEE_BERT_BASE); without it the
# run skips part 2 and says so. --make-bert-base creates it first (~1 min, ~880 MB; installs python3-torch via apt).
# The machine's load skews wall times: E2E_MAX_LOAD=1.5 waits (up to E2E_WAIT_MINUTES, default 30) for the
# 1-minute load average to drop below it before starting.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bert=${NATIVEEE_BERT_BASE:-$repo/../out/bert-base}
args=()
for a in "$@"; do
  if [ "$a" = --make-bert-base ]; then bash "$repo/../shared/tools/make-bert-base.sh" "$bert"; else args+=("$a"); fi
done

dotnet build "$repo/bench/NativeEE.Bench/NativeEE.Bench.csproj" -c Release -nologo -v q

if [ -n "${E2E_MAX_LOAD:-}" ] && [ -r /proc/loadavg ]; then
  deadline=$(( $(date +%s) + 60 * ${E2E_WAIT_MINUTES:-30} ))
  while awk -v max="$E2E_MAX_LOAD" '{ exit !($1 >= max) }' /proc/loadavg && [ "$(date +%s)" -lt "$deadline" ]; do
    echo "load $(cut -d' ' -f1-3 /proc/loadavg) ≥ $E2E_MAX_LOAD, waiting" >&2; sleep 30
  done
fi

E2E_COMMAND="bench/run-e2e.sh $*" dotnet "$repo/bench/NativeEE.Bench/bin/Release/net10.0/NativeEE.Bench.dll" e2e \
  --bert-base "$bert" --out "$repo/docs/performance.md" --readme "$repo/README.md" "${args[@]}"
