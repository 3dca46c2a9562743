#!/bin/bash
# Prepares .device-carry/ for a run on a GPU machine (../shared/device/README.md):
# node + Dawn + Vulkan loader (pack.sh), esbuild bundles of the benchmark and
# conformance entry points, and the reference files they read (synth-v1 weights,
# conformance tensors). The trained weights (123 MB) cannot travel within the 64 MiB
# limit, so everything here runs on synth-v1 weights: speed does not depend on values.
#   bash bench/device/build.sh [/path/to/shared]     then: device run, carry .device-carry,
#   command: bash .device-carry/suite.sh [quick|full|tc]   (bench/device/suite.sh)
set -euo pipefail
ROOT=$(git rev-parse --show-toplevel)
SHARED=${1:-$ROOT/../shared}
D="$ROOT/.device-carry"
cd "$ROOT"
[ -n "${SKIP_PACK:-}" ] || bash "$SHARED/device/pack.sh" >/dev/null   # SKIP_PACK=1: node/Dawn/debs already there
npm run -s gen
mkdir -p "$D/app" "$D/ref"
rm -f "$D"/app/*.mjs
for entry in test/selfcheck.ts src/cli/conformance.ts bench/memnet.ts bench/iog.ts bench/step-profile.ts bench/round.ts bench/host-step.ts bench/encode-step.ts bench/kernels.ts \
    bench/device/tensor-cores.ts bench/device/summary.ts bench/gpu-kernels.ts ${EXTRA_ENTRIES:-}; do
  # tfjs-core require()s node builtins: give the ESM bundle a require.
  npx esbuild "$entry" --bundle --platform=node --format=esm --external:webgpu --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$D/app/$(basename "$entry" .ts).mjs"
done
R="$SHARED/reference"
cp "$R"/{qamn,iog}_manifest.json "$R"/{qamn,iog}_small.safetensors "$R"/qamn_ref{1,2}.safetensors "$R"/iog_ref.safetensors \
   "$R"/phantom_{0,1,2}.png "$R"/phantom_mask_0.png "$R"/torch_reference_log.json "$D/ref/"
cp "$ROOT/bench/device/suite.sh" "$D/suite.sh"
du -sh "$D" "$D"/*
# The device tool carries the working tree (tracked and untracked files; links as links) and
# .device-carry, 64 MiB in all: a run over it fails only after the machine has started.
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c '%s %F' 2>/dev/null | awk '$2 == "regular" { s += $1 } END { print s + 0 }')
carry=$(du -sb "$D" | cut -f1)
echo "device tool payload: working tree $(( tree / 1048576 )) MiB + .device-carry $(( carry / 1048576 )) MiB of 64 MiB"
if [ $(( tree + carry )) -ge $(( 64 * 1048576 )) ]; then
  echo "over the device tool's 64 MiB: move the trained shards out of the tree first (bench/RESULTS.md, 'Matrix units':" >&2
  echo "  mkdir -p ../weights-store; for f in weights/*-phantom/*-of-*.safetensors; do mv \"\$f\" ../weights-store/; ln -s \"\$PWD/../weights-store/\${f##*/}\" \"\$f\"; done" >&2
  echo "  and 'git checkout -- weights' after the run)" >&2
  exit 1
fi
