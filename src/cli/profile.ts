// --profile / --profile-json for the commands that run networks: GPU time per kernel,
// per module (Encoder_Q, Decoder, ...) and per dispatch from timestamp queries, with
// GFLOP/s and GB/s (src/runtime/profiler.ts), printed after the work and optionally
// written as JSON. A profiled run gives every dispatch its own compute pass, so it is
// slower than an unprofiled one; the shares stay meaningful.
import type { Runtime } from '../runtime/runtime.ts';
import { formatProfile } from '../runtime/profiler.ts';
import { checkOutputFile, writeFileAtomic } from '../volume/safe-write-node.ts';
import { resolve } from 'node:path';
import { UsageError, type ConsoleLike } from './args.ts';

export const PROFILE_OPTIONS = {
  profile: { type: 'boolean', default: false },
  'profile-json': { type: 'string' },
} as const;

export const PROFILE_HELP = `  --profile            GPU time by kernel, module and dispatch (timestamp queries), with
                       GFLOP/s and GB/s, printed after the run (profiled runs are slower)
  --profile-json FILE  also write that profile as JSON (implies --profile)`;

export interface ProfileRequest {
  on: boolean;
  json?: string;
}

/**
 * Reads the flags and checks the JSON output like every other output, before any work:
 * `check.inputs` are the run's inputs, `outputs` its other outputs (not written yet, so
 * compared by path).
 */
export function profileRequest(values: { profile?: boolean; 'profile-json'?: string }, check: { inputs: string[]; overwrite: boolean }, outputs: string[] = []): ProfileRequest {
  const json = values['profile-json'];
  if (json !== undefined) {
    const clash = outputs.find((o) => resolve(o) === resolve(json));
    if (clash !== undefined) throw new UsageError(`--profile-json ${json} is also the run's output ${clash}: give another file`);
    checkOutputFile(json, check);
  }
  return { on: Boolean(values.profile) || json !== undefined, json };
}

/** Call right after creating the runtime: profiling needs the adapter's timestamp-query. */
export function checkProfilable(rt: Runtime, request: ProfileRequest): void {
  if (request.on && !rt.device.features.has('timestamp-query')) {
    throw new Error(`--profile needs the adapter feature 'timestamp-query', which ${rt.describe().split(';')[0]} does not offer`);
  }
}

/** Runs fn, profiled when asked: the profile is printed (and written) when fn succeeds. */
export async function profiled<T>(rt: Runtime, request: ProfileRequest, io: ConsoleLike, fn: () => Promise<T>): Promise<T> {
  if (!request.on) return fn();
  rt.startProfiling();
  const result = await fn();
  const report = await rt.stopProfiling();
  io.log(formatProfile(report));
  if (request.json !== undefined) writeFileAtomic(request.json, JSON.stringify(report, null, 2) + '\n');
  return result;
}
