// createSegmenter({ weightPrecision: 'f16' }) loads the shipped networks with f16 conv
// weights, as MemoryNetwork.load / IOGNetwork.load do: about half the GPU bytes of the
// f32 load (biases and linear layers stay f32; measured 0.50-0.51 per network in
// test/conv2d-f16-networks.test.ts). The shipped weights/ folder is served to the
// loaders by a fetch stub (Node's fetch has no file: URLs). Bad values and the
// loadNetworks combination are refused before anything is downloaded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { WeightPrecision } from '../src/ops/conv2d-f16.ts';
import { createSegmenter } from '../web/embed.ts';
import { testRuntime } from './_lib/gpu.ts';

const WEIGHTS = new URL('../weights/', import.meta.url).pathname;
const BASE = 'http://weights.invalid/';
let fetched = 0;
globalThis.fetch = (async (input: string | URL | Request) => {
  const url = String(input instanceof Request ? input.url : input);
  if (!url.startsWith(BASE)) throw new Error(`unexpected fetch ${url}`);
  fetched++;
  return new Response(readFileSync(WEIGHTS + url.slice(BASE.length)));
}) as typeof fetch;

test('weightPrecision f16 holds about half the bytes of f32 for the shipped networks', async () => {
  const rt = await testRuntime();
  assert.ok(rt.hasFeature('shader-f16'), `this adapter lacks shader-f16 (${rt.describe()}); the f16 load needs it`);
  const before = rt.memoryStats().liveBytes;
  const bytes = async (weightPrecision?: WeightPrecision): Promise<number> => {
    const seg = await createSegmenter({ runtime: rt, weightsBaseUrl: BASE, cacheName: null, cropSize: 64, weightPrecision });
    const b = rt.memoryStats().liveBytes - before;
    seg.dispose();
    assert.is(rt.memoryStats().liveBytes, before, 'dispose releases the networks');
    return b;
  };
  const f32 = await bytes();
  const f16 = await bytes('f16');
  assert.ok(f32 > 500 * 2 ** 20, `f32 networks hold ${f32} bytes (QAMN 347 + IOG 227 MiB expected)`);
  assert.ok(f16 / f32 > 0.45 && f16 / f32 <= 0.52, `f16 / f32 bytes = ${(f16 / f32).toFixed(3)}`);
  assert.is(await bytes('f32'), f32, "'f32' is the default");
});

test('weightPrecision: bad values and loadNetworks are refused before any download', async () => {
  const rt = await testRuntime();
  const start = fetched;
  const refusal = async (options: Parameters<typeof createSegmenter>[0]): Promise<string> => {
    try {
      (await createSegmenter(options)).dispose();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.match(await refusal({ runtime: rt, weightsBaseUrl: BASE, weightPrecision: 'f8' as WeightPrecision }), /weight precision must be 'f32' or 'f16', got "f8"/);
  const loadNetworks = async (): Promise<never> => {
    throw new Error('loadNetworks was called');
  };
  assert.match(await refusal({ runtime: rt, weightPrecision: 'f16', loadNetworks }), /weightPrecision applies to the shipped weights; with loadNetworks/);
  assert.is(fetched, start, 'nothing was fetched');
});

test.run();
