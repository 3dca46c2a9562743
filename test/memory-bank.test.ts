// Memory banks (src/networks/mem3d/memory-bank.ts): the memory read's keys and values
// concatenated once per propagation instead of once per read. Every read must give
// exactly the entries' rows in order (checked against the entries' own data, bit for
// bit), a step of a propagation must copy only its new entry, streams that alternate
// (lanes, objects) must not overwrite each other, and every bank must be released with
// its propagation (its first entry) or the network. Awkward sizes: 6 rows per entry,
// key and value channels 5 and 7 (not multiples of 4).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BANK_SLACK_ENTRIES, MAX_BANKS, MemoryBanks, STALE_READS } from '../src/networks/mem3d/memory-bank.ts';
import { MemoryEntry } from '../src/networks/mem3d/memory-network.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { testRuntime } from './_lib/gpu.ts';

const [H, W, DK, DV] = [3, 2, 5, 7];

/** Entry `id`'s data: every value distinct across entries, keys and values. */
const keyData = (id: number) => Float32Array.from({ length: H * W * DK }, (_, i) => id * 1000 + i);
const valueData = (id: number) => Float32Array.from({ length: H * W * DV }, (_, i) => -(id * 1000 + i) - 0.5);

type Entry = MemoryEntry & { id: number };

function entry(rt: Runtime, id: number): Entry {
  const e = new MemoryEntry(rt.upload([1, H, W, DK], keyData(id)), rt.upload([1, H, W, DV], valueData(id)), [16 * H, 16 * W]);
  return Object.assign(e, { id });
}

const concat = (parts: Float32Array[]) => Float32Array.from(parts.flatMap((p) => Array.from(p)));

/** Reads the bank's rows for `memory` and checks them against the entries' data; returns the dispatches the call made. */
async function readChecked(rt: Runtime, banks: MemoryBanks, memory: Entry[], label: string): Promise<number> {
  const before = rt.dispatchCount;
  const { keys, values } = banks.rows(memory, 'test bank');
  const dispatches = rt.dispatchCount - before;
  assert.equal(keys.shape, [memory.length * H * W, DK], `${label}: keys shape`);
  assert.equal(values.shape, [memory.length * H * W, DV], `${label}: values shape`);
  assert.equal(await keys.read(), concat(memory.map((e) => keyData(e.id))), `${label}: keys`);
  assert.equal(await values.read(), concat(memory.map((e) => valueData(e.id))), `${label}: values`);
  return dispatches;
}

test('a propagation: every read is its entries in order, and each step copies its new entry alone (two dispatches; four more when the bank grows)', async () => {
  const rt = await testRuntime();
  const banks = new MemoryBanks(rt);
  const kept: Entry[] = [];
  let previous: Entry | null = null;
  let grew = 0;
  // As session.ts builds memories: [kept..., the previous slice], the previous slice kept every 3rd step.
  for (let step = 0; step < 40; step++) {
    const e = entry(rt, step);
    const memory = [...kept, e];
    if (step % 3 === 0) kept.push(e);
    const bytes = banks.bytes;
    const dispatches = await readChecked(rt, banks, memory, `step ${step}`);
    const grown = step > 0 && banks.bytes !== bytes;
    grew += grown ? 1 : 0;
    assert.is(dispatches, grown ? 4 : 2, `step ${step}: dispatches`);
    assert.is(banks.count, 1, `step ${step}: one bank`);
    // The session releases a memorized slice it did not keep once its step is done.
    if (previous && !kept.includes(previous)) previous.dispose();
    previous = e;
  }
  assert.ok(grew >= 1 && grew <= Math.ceil(14 / BANK_SLACK_ENTRIES), `the bank grew ${grew} times for 14 kept entries`);
  if (!kept.includes(previous!)) previous!.dispose();
  for (const e of kept) e.dispose();
  assert.is(banks.count, 0, 'disposing the first entry released the bank');
});

test(`alternating streams (lanes, objects) keep a bank each; past ${MAX_BANKS} a stream concatenates its own until a bank goes stale`, async () => {
  const rt = await testRuntime();
  const banks = new MemoryBanks(rt);
  const all: Entry[] = [];
  const make = (id: number) => {
    const e = entry(rt, id);
    all.push(e);
    return e;
  };
  // Stream s: two kept entries of its own, then one replaced each read; streams 0 and 1 share their first
  // (two lanes from one memorized slice), so the bank one of them holds is not the other's to continue.
  const shared = make(500);
  const firsts = Array.from({ length: MAX_BANKS + 1 }, (_, s) => (s < 2 ? shared : make(600 + s)));
  const seconds = Array.from({ length: MAX_BANKS + 1 }, (_, s) => make(650 + s));
  let id = 700;
  const read = (s: number, label: string) => readChecked(rt, banks, [firsts[s], seconds[s], make(id++)], label);
  for (let step = 0; step < 4; step++) {
    for (let s = 0; s < MAX_BANKS; s++) {
      const dispatches = await read(s, `stream ${s}, step ${step}`);
      if (step > 0) assert.is(dispatches, 2, `stream ${s}, step ${step}: one entry copied`);
    }
  }
  assert.is(banks.count, MAX_BANKS, 'a bank per stream');
  // One stream more, read in turn with the others: it concatenates its three entries for each read, the others keep their banks.
  const extra = MAX_BANKS;
  for (let round = 0; round < 3; round++) {
    for (let s = 0; s < MAX_BANKS; s++) assert.is(await read(s, `stream ${s}, round ${round}`), 2, `stream ${s}, round ${round}: one entry copied`);
    assert.is(await read(extra, `extra stream, round ${round}`), 6, `extra stream, round ${round}: all three entries copied`);
    assert.is(banks.count, MAX_BANKS);
  }
  // The last stream stops: once its bank has gone ${STALE_READS} reads unread, the extra stream takes its place and continues it.
  const seen: number[] = [];
  for (let round = 0; round < 6; round++) {
    for (let s = 0; s < MAX_BANKS - 1; s++) assert.is(await read(s, `stream ${s}, late round ${round}`), 2);
    seen.push(await read(extra, `extra stream, late round ${round}`));
  }
  assert.ok(seen.every((d) => d === 6 || d === 2) && seen[seen.length - 1] === 2 && seen.includes(6), `extra stream's dispatches: ${seen.join(' ')}`);
  assert.ok(seen.indexOf(2) * MAX_BANKS >= STALE_READS, `it waited for the bank to go stale: ${seen.join(' ')}`);
  assert.is(banks.count, MAX_BANKS);
  assert.is(await read(MAX_BANKS - 1, 'the stopped stream again'), 6, 'the stopped stream starts over');
  for (const e of all) e.dispose();
  assert.is(banks.count, 0, 'every bank released with its first entry');
});

test('of two banks a read could continue, it continues the one sharing the most (a grown bank is not taken for another)', async () => {
  const rt = await testRuntime();
  const banks = new MemoryBanks(rt);
  const [a, kept] = [entry(rt, 20), entry(rt, 21)];
  const more = Array.from({ length: BANK_SLACK_ENTRIES + 1 }, (_, i) => entry(rt, 30 + i));
  const others = Array.from({ length: 4 }, (_, i) => entry(rt, 40 + i));
  await readChecked(rt, banks, [a, kept, others[0]], 'stream A');
  await readChecked(rt, banks, [a, others[1]], 'stream B, same first entry');
  assert.is(banks.count, 2);
  // Stream A keeps more entries than its bank has room for: it regrows (and comes after B's bank in the list).
  await readChecked(rt, banks, [a, kept, ...more, others[2]], 'stream A, grown');
  assert.is(await readChecked(rt, banks, [a, kept, ...more, others[3]], 'stream A, next step'), 2, 'stream A continues its own bank');
  assert.is(banks.count, 2);
  for (const e of [a, kept, ...more, ...others]) e.dispose();
  assert.is(banks.count, 0);
});

test('inside Runtime.warmupFrom (dispatches recorded, not run) a bank keeps no rows it did not copy', async () => {
  const rt = await testRuntime();
  const banks = new MemoryBanks(rt);
  const [a, b, c] = [entry(rt, 11), entry(rt, 12), entry(rt, 13)];
  await readChecked(rt, banks, [a, b], 'before the warm-up');
  await rt.warmupFrom(() => banks.rows([a, c], 'test bank'));
  // Had the bank kept [a, c] after the recording, this read would copy nothing and give b's rows for c's.
  await readChecked(rt, banks, [a, c], 'after the warm-up');
  for (const e of [a, b, c]) e.dispose();
  assert.is(banks.count, 0);
});

test('the banks hold no tensor once their entries or the owner are disposed; a memory of one entry is copied too', async () => {
  const rt = await testRuntime();
  const before = rt.memoryStats().liveBytes;
  const banks = new MemoryBanks(rt);
  const [a, b, c] = [entry(rt, 1), entry(rt, 2), entry(rt, 3)];
  await readChecked(rt, banks, [a], 'one entry');
  await readChecked(rt, banks, [a, b], 'two entries');
  await readChecked(rt, banks, [c, b, a], 'another order');
  assert.is(banks.count, 2);
  banks.dispose();
  assert.is(banks.count, 0);
  for (const e of [a, b, c]) e.dispose();
  assert.is(rt.memoryStats().liveBytes, before, 'every tensor released');
  assert.throws(() => banks.rows([], 'test bank'), /no memory entries/);
});

test.run();
