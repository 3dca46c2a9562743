// src/io/gzip.ts against node:zlib (an independent implementation) on valid streams
// with every header field, and on broken ones: truncation at every byte, CRC-32 and
// ISIZE mismatches, trailing bytes, and a limit that stops a bomb.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { crc32 } from '../src/io/crc32.ts';
import { gunzip, GzipError } from '../src/io/gzip.ts';
import { rng } from './_lib/random.ts';

function refused(fn: () => unknown, ...parts: string[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, GzipError);
    for (const p of parts) assert.ok((e as Error).message.includes(p), `'${(e as Error).message}' lacks '${p}'`);
    return;
  }
  assert.unreachable(`accepted; expected a refusal mentioning ${parts.join(', ')}`);
}

/** A member with the optional header fields (FEXTRA, FNAME, FCOMMENT, FHCRC), built by hand. */
function member(data: Uint8Array, fields: { extra?: Uint8Array; name?: string; comment?: string; hcrc?: boolean }): Uint8Array {
  const flags = (fields.hcrc ? 2 : 0) | (fields.extra ? 4 : 0) | (fields.name !== undefined ? 8 : 0) | (fields.comment !== undefined ? 16 : 0);
  const head = [0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3];
  if (fields.extra) head.push(fields.extra.length & 0xff, fields.extra.length >> 8, ...fields.extra);
  if (fields.name !== undefined) head.push(...new TextEncoder().encode(fields.name), 0);
  if (fields.comment !== undefined) head.push(...new TextEncoder().encode(fields.comment), 0);
  if (fields.hcrc) {
    const c = crc32(Uint8Array.from(head)) & 0xffff;
    head.push(c & 0xff, c >> 8);
  }
  const trailer = new Uint8Array(8);
  new DataView(trailer.buffer).setUint32(0, crc32(data), true);
  new DataView(trailer.buffer).setUint32(4, data.length, true);
  return Uint8Array.from([...head, ...deflateRawSync(data), ...trailer]);
}

test('valid streams inflate as node:zlib does: levels, sizes, several members, every header field', () => {
  const r = rng(1952);
  for (let t = 0; t < 60; t++) {
    const n = Math.floor(r() ** 2 * 200_000);
    const data = Uint8Array.from({ length: n }, (_, i) => (r() < 0.7 ? i % 13 : Math.floor(r() * 256)));
    const parts: Uint8Array[] = [];
    const members = 1 + Math.floor(r() * 3);
    for (let m = 0, at = 0; m < members; m++) {
      const end = m === members - 1 ? n : at + Math.floor(r() * (n - at));
      const piece = data.subarray(at, end);
      parts.push(r() < 0.5 ? new Uint8Array(gzipSync(piece, { level: Math.floor(r() * 10) })) : member(piece, { extra: r() < 0.5 ? Uint8Array.of(1, 2, 3) : undefined, name: r() < 0.5 ? 'x.nii' : undefined, comment: r() < 0.5 ? 'c' : undefined, hcrc: r() < 0.5 }));
      at = end;
    }
    const gz = Uint8Array.from(parts.flatMap((p) => [...p]));
    const got = gunzip(gz, 't.gz');
    assert.equal(Buffer.compare(Buffer.from(got), gunzipSync(gz)), 0, `stream ${t}`);
    assert.equal(got.length, n);
  }
});

test('zero padding after the last member is accepted; other trailing bytes are refused', () => {
  const gz = new Uint8Array(gzipSync(new Uint8Array(100).fill(7)));
  assert.is(gunzip(Uint8Array.from([...gz, 0, 0, 0]), 'pad.gz').length, 100);
  refused(() => gunzip(Uint8Array.from([...gz, 0, 1]), 'junk.gz'), 'junk.gz', 'neither another gzip member nor zero padding');
});

test('a stream cut at every byte is refused; CRC-32, ISIZE and header CRC mismatches are refused', () => {
  const gz = member(Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff), { name: 'n', hcrc: true });
  for (let cut = 0; cut < gz.length; cut++) refused(() => gunzip(gz.subarray(0, cut), 'cut.gz'), 'cut.gz');
  const crc = gz.slice();
  crc[crc.length - 8] ^= 1;
  refused(() => gunzip(crc, 'crc.gz'), 'CRC-32 mismatch');
  const size = gz.slice();
  size[size.length - 4] ^= 1;
  refused(() => gunzip(size, 'size.gz'), 'ISIZE');
  const head = gz.slice();
  head[10] ^= 1; // the file name: the header CRC no longer matches
  refused(() => gunzip(head, 'head.gz'), 'header CRC');
  refused(() => gunzip(Uint8Array.of(0x1f, 0x8b, 8, 0xe0, 0, 0, 0, 0, 0, 0), 'flags.gz'), 'reserved header flags');
  refused(() => gunzip(Uint8Array.of(1, 2, 3), 'plain.txt'), 'plain.txt', 'no gzip magic');
});

/** The largest `new Uint8Array(n)` that code looking up the global constructor makes while `fn` runs. */
function largestAllocation(fn: () => void): number {
  const real = globalThis.Uint8Array;
  let largest = 0;
  globalThis.Uint8Array = new Proxy(real, {
    construct(target, args, newTarget) {
      if (typeof args[0] === 'number') largest = Math.max(largest, args[0]);
      return Reflect.construct(target, args, newTarget === globalThis.Uint8Array ? target : newTarget);
    },
  });
  try {
    fn();
  } finally {
    globalThis.Uint8Array = real;
  }
  return largest;
}

test('a limit from the first bytes stops a bomb before its output is allocated', () => {
  const gz = new Uint8Array(gzipSync(new Uint8Array(64 * 2 ** 20)));
  // Counted by construction, not by process.memoryUsage(): what the garbage collector has not
  // yet reclaimed made that measure pass or fail by chance. (fflate's own buffers, bound to
  // ~1 MiB before the limit is known by gzip.ts's first steps, are allocated through its own
  // reference to the constructor and not counted here.)
  const largest = largestAllocation(() =>
    refused(() => gunzip(gz, 'bomb.gz', { headBytes: 16, limit: () => ({ expected: 1000, max: 4096, why: 'test limit' }) }), 'bomb.gz', 'inflates past 4096 bytes', 'test limit'),
  );
  assert.ok(largest <= 4096, `gunzip allocated ${largest} bytes before refusing a stream limited to 4096`);
  // A limit set after the head was stored: the output grows up to it, never past it.
  const capped = largestAllocation(() =>
    refused(() => gunzip(gz, 'bomb.gz', { headBytes: 16, limit: () => ({ expected: 0, max: 3 * 2 ** 20, why: 'test limit' }) }), 'inflates past 3145728 bytes'),
  );
  assert.ok(capped <= 3 * 2 ** 20, `gunzip allocated ${capped} bytes past a limit of 3 MiB`);
  // The same stream with a limit it fits is inflated exactly, into a buffer of its own size.
  const out = gunzip(gz, 'ok.gz', { headBytes: 16, limit: () => ({ expected: 64 * 2 ** 20, max: 64 * 2 ** 20, why: 'x' }) });
  assert.is(out.length, 64 * 2 ** 20);
  assert.is(out.buffer.byteLength, 64 * 2 ** 20);
});

test.run();
