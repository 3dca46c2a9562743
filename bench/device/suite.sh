#!/bin/bash
# Runs on the GPU machine from the project root: bash .device-carry/suite.sh [quick|full|tc]
# Every step has its own time limit and log, so one failure costs one step; after each step
# every log and JSON so far is packed into $OUT/results.tgz (at most 8 files come back from
# $OUT, and a run cut off by the device tool's limit still brings back the steps it finished).
# tc: the matrix units (src/ops/conv2d-mma.ts) first: their hardware check (the rest of
# their steps only if every case passed) and QAMN's conformance on them, then the goal
# steps before any diagnostic, so a run cut short keeps the goal table: the QAMN step and
# the IOG forward with MEM3D_TENSOR_CORES=1 (tc-*) and on the f32 kernels, then the rounds
# (fixed rule, then tuned), then the diagnostics (profiles, kernels, memory read forms).
# host-floor (quick and tc): the host's work per 512x512 propagation step with no GPU
# time, on Dawn's null backend: the floor of a round per slice; host-floor-lanes the same
# at 256x256 (the null backend's 512 MiB hold no 512x512 batch of two) with one and two lanes.
# Steps of one and two slices (memnet --batch 1,2) and rounds with two and one lanes
# (round --lanes 2,1) are timed side by side in one process; the memory read's fused
# subgroup kernel against its gemm form (memread, tc-memread: on the matrix units).
# wgemm-kernels: Winograd's GEMM form (src/ops/conv2d-winograd-gemm.ts) against the direct
# GPU kernels on the 3x3 layers at 512; in a tc run the f32 round is also tuned (--autotune:
# among all f32 kernels, the Winograd GEMM included), the goal table's f32 "after
# autotuning" column.
# iog-profile, tc-iog-profile: where an IOG forward's GPU time goes, per kernel, module and layer.
# *-nobc: the QAMN step and the IOG forward again with MEM3D_BOUNDS_CHECKS=off (Dawn's
# disable_robustness: no index clamps in the kernels' inner loops), on the matrix units in
# a tc run where they are on, else on the f32 kernels.
# It ends with the goal table (summary.ts; also goals.md in results.tgz).
# BUDGET_S=N: the whole run stays within N seconds: each step's limit is cut to what is
# left (15 s kept for the goal table), and steps that would get under 10 s are skipped,
# so the table prints before the device tool's own limit kills the command (give it
# timeout_s of N plus a little).
# Local dry run (tiny sizes, lavapipe): OUT=/tmp/out SIZE=64 DEPTH=3 LOCAL=1 bash .device-carry/suite.sh;
# TC_OPS=emulated runs the tc steps on the emulated matrix kernel (no matrix units needed).
C="$(cd "$(dirname "$0")" && pwd)"
OUT=${OUT:-/tmp/device-out}; mkdir -p "$OUT"
W=$(mktemp -d)  # logs and JSON, packed into $OUT after every step
SIZE=${SIZE:-512}; DEPTH=${DEPTH:-100}; MODE=${1:-quick}
BUDGET_S=${BUDGET_S:-0}; START_S=$(date +%s)
NODE="bash $C/run.sh"; [ -n "${LOCAL:-}" ] && NODE=node
REF="$C/ref"
WGEMM_VS=gpu-64x128,gpu-128x128,large,wgemm-128x128,wgemm-128x64,wgemm-64x128,wgemm-64x64,wgemm4-128x128,wgemm4-64x128,wgemm4-64x64
# The tuning steps' choices (src/runtime/autotune-node.ts's file) come back too: a table a GPU chose can ship.
TUNED="${XDG_CACHE_HOME:-$HOME/.cache}/mem3d-webgpu/autotune.json"
pack() { [ -f "$TUNED" ] && cp "$TUNED" "$W/autotune.json"; tar czf "$OUT/results.tgz.part" -C "$W" . && mv "$OUT/results.tgz.part" "$OUT/results.tgz"; }
step() { # step NAME SECONDS ARGS...: node bundle run, log to $W/NAME.log
  local name=$1 limit=$2; shift 2
  if [ "$BUDGET_S" -gt 0 ]; then
    local left=$(( START_S + BUDGET_S - 15 - $(date +%s) ))
    if [ "$left" -lt 10 ]; then
      printf '%-18s skipped: BUDGET_S=%s spent\n' "$name" "$BUDGET_S" | tee -a "$W/summary.txt"
      LAST_RC=skipped
      return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
  fi
  local t0=$(date +%s%N)
  timeout "$limit" $NODE "$@" > "$W/$name.log" 2>&1
  local rc=$?
  LAST_RC=$rc
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))   # no bc on the GPU machine
  printf '%-18s rc=%-3s %6d ms\n' "$name" "$rc" "$ms" | tee -a "$W/summary.txt"
  grep -v '^Warning: maxDynamic' "$W/$name.log" | tail -n "${TAILN:-25}"
  pack
}
no_bounds_checks() { # no_bounds_checks PREFIX: the step and the forward without bounds checks
  export MEM3D_BOUNDS_CHECKS=off
  step "${1}memnet-nobc" 120 "$C/app/memnet.mjs" --size "$SIZE" --memory 5 --batch 1,2 --reps 5 --reference "$REF" --json "$W/${1}memnet-nobc.json"
  step "${1}iog-nobc" 90 "$C/app/iog.mjs" --size "$SIZE" --reps 5 --reference "$REF" --json "$W/${1}iog-nobc.json"
  unset MEM3D_BOUNDS_CHECKS
}
host_floor() { # this machine's host work per propagation step with no GPU time: Dawn's null backend (bench-runtime.ts)
  export MEM3D_BENCH_BACKEND=null
  step host-floor 60 "$C/app/host-step.mjs" --size "$SIZE" --depth 40 --reps 3 --network qamn --weight-precision f16 --modes ahead --reference "$REF" --json "$W/host-floor.json"
  step host-floor-lanes 60 "$C/app/host-step.mjs" --size 256 --depth 40 --reps 3 --network qamn --weight-precision f16 --modes ahead,lanes --reference "$REF" --json "$W/host-floor-lanes.json"
  unset MEM3D_BENCH_BACKEND
}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$W/nvidia-smi.txt"
if [ "$MODE" = tc ]; then
  EMULATE=; [ "${TC_OPS:-}" = emulated ] && EMULATE=--emulate
  step tc-check 90 "$C/app/tensor-cores.mjs" $EMULATE --json "$W/tc-check.json"
  # tensor-cores exits 0 only when every case passed (1: a case failed, 2: the units cannot be used):
  # numbers from unchecked matrix units would only cost the f32 steps their time.
  TC=; [ "$LAST_RC" = 0 ] && TC=${TC_OPS:-1}
  tc() { MEM3D_TENSOR_CORES=$TC step "$@"; }
  if [ -n "$TC" ]; then
    tc tc-conf-qamn 90 "$C/app/conformance.mjs" "$REF" --model qamn --json "$W/tc-conf-qamn.json"
    tc tc-memnet 120 "$C/app/memnet.mjs" --size "$SIZE" --memory 5 --batch 1,2 --reps 5 --reference "$REF" --json "$W/tc-memnet.json"
    tc tc-iog 90 "$C/app/iog.mjs" --size "$SIZE" --reps 5 --reference "$REF" --json "$W/tc-iog.json"
  fi
  # The f32 kernels beside them (the goals' fallback), before any round or diagnostic.
  step memnet 120 "$C/app/memnet.mjs" --size "$SIZE" --memory 5 --batch 1,2 --reps 5 --reference "$REF" --json "$W/memnet.json"
  step iog 90 "$C/app/iog.mjs" --size "$SIZE" --reps 5 --reference "$REF" --json "$W/iog.json"
  [ -n "$TC" ] && tc tc-round 240 "$C/app/round.mjs" --size "$SIZE" --depth "$DEPTH" --rounds 2 --lanes 2,1 --autotune --tune-budget-s 60 --reference "$REF" --json "$W/tc-round.json"
  # A round tuned among all f32 kernels, the Winograd GEMM included.
  step round 240 "$C/app/round.mjs" --size "$SIZE" --depth "$DEPTH" --rounds 2 --lanes 2,1 --autotune --tune-budget-s 45 --reference "$REF" --json "$W/round.json"
  # Diagnostics: where a step's GPU time goes on the matrix units (the fixed rule: tc-round's table is not read),
  # the steps without bounds checks, the kernels and the memory read's forms.
  if [ -n "$TC" ]; then
    tc tc-profile 60 "$C/app/step-profile.mjs" --size "$SIZE" --memory 5 --reps 3 --warm --profile --reference "$REF" --json "$W/tc-profile.json"
    tc tc-iog-profile 60 "$C/app/iog.mjs" --size "$SIZE" --reps 1 --profile --reference "$REF" --json "$W/tc-iog-profile.json"
    MEM3D_TENSOR_CORES=$TC no_bounds_checks tc-
    tc tc-memread 60 "$C/app/gpu-kernels.mjs" --only memory --mr-variants subgroup,gemm --reps 5 --json "$W/tc-memread.json"
    tc tc-kernels 120 "$C/app/gpu-kernels.mjs" --only conv --conv-variants mma,mma:nopad,mma-128x64,mma-64x128,mma-128x128,mma-128x128:nopad,mma:nosplit,gpu-64x128,gpu-128x128,large --reps 5 --json "$W/tc-kernels.json"
  else
    no_bounds_checks ""
  fi
  step iog-profile 60 "$C/app/iog.mjs" --size "$SIZE" --reps 1 --profile --reference "$REF" --json "$W/iog-profile.json"
  step wgemm-kernels 90 "$C/app/gpu-kernels.mjs" --only conv --layers 1,3,4,6,8,9 --conv-variants $WGEMM_VS --reps 5 --json "$W/wgemm-kernels.json"
  step memread 60 "$C/app/gpu-kernels.mjs" --only memory --mr-variants subgroup,gemm --reps 5 --json "$W/memread.json"
  host_floor
  MODE=done
fi
[ "$MODE" = done ] || {
step selfcheck 90 "$C/app/selfcheck.mjs"
step conf-qamn 90 "$C/app/conformance.mjs" "$REF" --model qamn --json "$W/conf-qamn.json"
step conf-iog 90 "$C/app/conformance.mjs" "$REF" --model iog --json "$W/conf-iog.json"
step memnet 120 "$C/app/memnet.mjs" --size "$SIZE" --memory 1,5,20 --batch 1,2 --reps 5 --reference "$REF" --json "$W/memnet.json"
step iog 90 "$C/app/iog.mjs" --size "$SIZE" --reps 5 --reference "$REF" --json "$W/iog.json"
step round 240 "$C/app/round.mjs" --size "$SIZE" --depth "$DEPTH" --rounds 2 --lanes 2,1 --reference "$REF" --json "$W/round.json"
# Diagnostics after every goal step.
step iog-profile 60 "$C/app/iog.mjs" --size "$SIZE" --reps 1 --profile --reference "$REF" --json "$W/iog-profile.json"
no_bounds_checks ""
step host-step 60 "$C/app/host-step.mjs" --size "$SIZE" --depth 40 --reps 3 --json "$W/host-step.json"
host_floor
step encode-step 40 "$C/app/encode-step.mjs" --reps 20 --reference "$REF" --json "$W/encode-step.json"
step wgemm-kernels 90 "$C/app/gpu-kernels.mjs" --only conv --layers 1,3,4,6,8,9 --conv-variants $WGEMM_VS --reps 5 --json "$W/wgemm-kernels.json"
if [ "$MODE" = full ]; then
  step profile 120 "$C/app/step-profile.mjs" --size "$SIZE" --memory 5 --reps 3 --warm --profile --reference "$REF" --json "$W/profile.json"
  step kernels 150 "$C/app/kernels.mjs" --reps 5 --json "$W/kernels.json"
  step round-tuned 300 "$C/app/round.mjs" --size "$SIZE" --depth "$DEPTH" --rounds 2 --autotune --reference "$REF" --json "$W/round-tuned.json"
fi
}
cat "$W/summary.txt"
# The goal table (bench/device/summary.ts) last, so the device tool's output tail shows it.
$NODE "$C/app/summary.mjs" "$W" > "$W/goals.md" 2>&1
cat "$W/goals.md"
pack
