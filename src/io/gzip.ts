// gzip (RFC 1952) decompression, the one path for Node and browsers: every member's
// header is parsed here, its deflate data inflated by fflate's streaming Inflate in
// small pieces (so the output is counted as it grows and a bomb is stopped before it
// is allocated), and its CRC-32 and ISIZE are checked. Concatenated members are one
// stream (as gzip -d, zlib and Python read them); trailing zero bytes are padding
// (as Python's gzip module allows); anything else after a member is refused.
//
// fflate's Inflate does not report where a deflate stream ends, which the trailer and
// the next member need; its state does (the `f`/`l`/`p` fields its own Gunzip reads),
// so endOfDeflate() reads them. The package is pinned by package-lock.json and the
// gzip tests cover single, multi-member, stored and padded streams.

import { Inflate } from 'fflate';
import { crc32, crc32Update } from './crc32.ts';

/** A gzip stream that cannot be read: the message starts with the file, names the member and the field or limit. */
export class GzipError extends Error {
  constructor(readonly source: string, message: string, options?: ErrorOptions) {
    super(`${source}: gzip ${message}`, options);
    this.name = 'GzipError';
  }
}

/** The most any stream may inflate to without a tighter limit: ISIZE's range. */
export const MAX_GUNZIP_BYTES = 2 ** 32 - 1;
/** Deflate cannot expand its input more than about 1032 times. */
const MAX_DEFLATE_RATIO = 1032;
/**
 * Input handed to the inflater at a time: HEAD_STEP until the limit is known (so
 * the inflater's own buffers hold at most ~1 MiB of output before the caller has
 * seen the head), then as much as the limit's remaining room plus OVERSHOOT allows
 * at deflate's worst ratio, between MIN_STEP and MAX_STEP: the output of one step
 * may pass the limit by OVERSHOOT at most before it is refused.
 */
const HEAD_STEP = 1024;
const MIN_STEP = 16 * 1024;
const MAX_STEP = 1 << 20;
const OVERSHOOT = 64 * 2 ** 20;

export interface GunzipLimit {
  /** the output size the caller expects (the first allocation; 0 when unknown) */
  readonly expected: number;
  /** output past this many bytes is refused */
  readonly max: number;
  /** what the limit comes from, for the message (e.g. 'the NIfTI header's size plus 1 MiB') */
  readonly why: string;
}

export interface GunzipOptions {
  /**
   * Called once with the first `headBytes` inflated bytes (all of them when the
   * stream is shorter) to set the limit; may throw to refuse the stream there.
   */
  limit?: (head: Uint8Array) => GunzipLimit;
  headBytes?: number;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const FTEXT = 1, FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16;

/** The output, grown by doubling up to the limit, never past it. */
class Output {
  private buffer: Uint8Array;
  length = 0;
  private limit: GunzipLimit | undefined;

  constructor(private readonly source: string, private readonly options: GunzipOptions, private readonly bound: number) {
    this.buffer = new Uint8Array(Math.min(bound, options.limit ? (options.headBytes ?? 0) : 1 << 20));
  }

  /** The most input one inflate step may take (see HEAD_STEP). */
  step(): number {
    if (this.options.limit && !this.limit) return HEAD_STEP;
    const room = ((this.limit?.max ?? MAX_GUNZIP_BYTES) - this.length + OVERSHOOT) / MAX_DEFLATE_RATIO;
    return Math.max(MIN_STEP, Math.min(MAX_STEP, Math.floor(room)));
  }

  write(chunk: Uint8Array, member: number): void {
    const total = this.length + chunk.length;
    const headBytes = this.options.headBytes ?? 0;
    // The limit is set from the head before anything past it is stored, so a bomb is refused before its output is allocated.
    if (!this.limit && this.options.limit && total >= headBytes) {
      const head = new Uint8Array(headBytes);
      head.set(this.buffer.subarray(0, this.length));
      head.set(chunk.subarray(0, headBytes - this.length), this.length);
      this.setLimit(head);
    }
    const max = this.limit?.max ?? MAX_GUNZIP_BYTES;
    if (total > max) {
      throw new GzipError(this.source, `member ${member} inflates past ${max} bytes, the limit (${this.limit?.why ?? 'the largest size gzip records'})`);
    }
    if (total > this.buffer.length) this.grow(total, max);
    this.buffer.set(chunk, this.length);
    this.length = total;
  }

  private grow(need: number, max: number): void {
    const size = Math.min(max, this.bound, Math.max(need, 2 * this.buffer.length, 1 << 16));
    const next = new Uint8Array(Math.max(size, need));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  /** Asks the caller for the limit, given the head (all of the output when the stream is shorter than headBytes). */
  private setLimit(head: Uint8Array): void {
    if (this.limit || !this.options.limit) return;
    const asked = this.options.limit(head);
    this.limit = { ...asked, max: Math.min(asked.max, MAX_GUNZIP_BYTES) };
    if (this.length > this.limit.max) throw new GzipError(this.source, `inflates past ${this.limit.max} bytes, the limit (${this.limit.why})`);
    // Allocate what the caller expects now, so a well-formed stream ends in a buffer of exactly its size.
    const first = Math.min(this.limit.expected, this.limit.max, this.bound);
    if (first > this.buffer.length) {
      const next = new Uint8Array(first);
      next.set(this.buffer.subarray(0, this.length));
      this.buffer = next;
    }
  }

  result(): Uint8Array {
    this.setLimit(this.buffer.slice(0, this.length));
    return this.length === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.length);
  }
}

/** Where the deflate stream ended in the input pushed so far, or -1 while it has not (see the header comment). */
function endOfDeflate(inflate: Inflate, pushed: number): number {
  const state = (inflate as unknown as { s: { f?: number; l?: unknown; p?: number }; p: Uint8Array });
  if (!(state.s.f && !state.s.l)) return -1;
  return pushed - state.p.length + (((state.s.p ?? 0) + 7) >> 3);
}

/** Parses one member header at `at`; returns where its deflate data starts. */
function memberHeader(bytes: Uint8Array, at: number, member: number, fail: (msg: string) => never): number {
  const field = (what: string) => fail(`member ${member}: the header is truncated in its ${what}`);
  if (at + 10 > bytes.length) field('fixed fields');
  if (bytes[at] !== 0x1f || bytes[at + 1] !== 0x8b) fail(`member ${member} at byte ${at}: no gzip magic (1f 8b)`);
  if (bytes[at + 2] !== 8) fail(`member ${member}: compression method ${bytes[at + 2]} (only 8, deflate, exists)`);
  const flags = bytes[at + 3];
  if (flags & 0xe0) fail(`member ${member}: reserved header flags set (FLG 0x${flags.toString(16)})`);
  let pos = at + 10;
  if (flags & FEXTRA) {
    if (pos + 2 > bytes.length) field('FEXTRA length');
    pos += 2 + (bytes[pos] | (bytes[pos + 1] << 8));
    if (pos > bytes.length) field('FEXTRA field');
  }
  for (const [flag, what] of [[FNAME, 'file name (FNAME)'], [FCOMMENT, 'comment (FCOMMENT)']] as const) {
    if (!(flags & flag)) continue;
    const end = bytes.indexOf(0, pos);
    if (end < 0) field(what);
    pos = end + 1;
  }
  if (flags & FHCRC) {
    if (pos + 2 > bytes.length) field('header CRC (FHCRC)');
    const stored = bytes[pos] | (bytes[pos + 1] << 8);
    if ((crc32(bytes.subarray(at, pos)) & 0xffff) !== stored) fail(`member ${member}: header CRC (FHCRC) mismatch`);
    pos += 2;
  }
  void FTEXT; // FTEXT is a hint only
  return pos;
}

/**
 * Inflates a gzip stream (one or more members). Each member's CRC-32 and ISIZE are
 * checked; the output never exceeds the limit from `options.limit` (or 4 GiB - 1)
 * nor what deflate can produce from the input, so memory is only taken for output
 * that is really there. Throws GzipError.
 */
export function gunzip(input: Uint8Array, source: string, options: GunzipOptions = {}): Uint8Array {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const fail = (msg: string): never => {
    throw new GzipError(source, msg);
  };
  if (!isGzip(bytes)) fail('stream expected: no gzip magic (1f 8b) at the start');
  const out = new Output(source, options, bytes.length * MAX_DEFLATE_RATIO + (1 << 16));
  let at = 0;
  for (let member = 1; ; member++) {
    const start = memberHeader(bytes, at, member, fail);
    const memberStart = out.length;
    let crc = 0;
    const inflate = new Inflate((chunk) => {
      crc = crc32Update(crc, chunk);
      out.write(chunk, member);
    });
    let pushed = 0;
    let end = -1;
    try {
      while (end < 0 && start + pushed < bytes.length) {
        const piece = bytes.subarray(start + pushed, Math.min(bytes.length, start + pushed + out.step()));
        pushed += piece.length;
        inflate.push(piece, false);
        end = endOfDeflate(inflate, pushed);
      }
      if (end < 0) {
        inflate.push(new Uint8Array(0), true);
        end = endOfDeflate(inflate, pushed);
      }
    } catch (e) {
      // fflate's own errors carry a numeric code; anything else (a limit, the caller's header check) passes through.
      if (typeof (e as { code?: unknown })?.code !== 'number') throw e;
      const msg = (e as Error).message;
      fail(`member ${member}: invalid deflate data (${msg === 'unexpected EOF' ? 'unexpected end of data: the file is truncated' : msg})`);
    }
    if (end < 0) fail(`member ${member}: the deflate data ends early: the file is truncated`);
    const trailer = start + end;
    if (trailer + 8 > bytes.length) fail(`member ${member}: the 8-byte trailer (CRC-32, ISIZE) is missing: the file is truncated`);
    const view = new DataView(bytes.buffer, bytes.byteOffset + trailer, 8);
    const size = out.length - memberStart;
    if (view.getUint32(0, true) !== crc) fail(`member ${member}: CRC-32 mismatch (the data is corrupt)`);
    if (view.getUint32(4, true) !== size % 2 ** 32) fail(`member ${member}: ISIZE ${view.getUint32(4, true)} does not match the ${size} bytes inflated`);
    at = trailer + 8;
    if (at === bytes.length) break;
    if (bytes[at] === 0x1f && bytes[at + 1] === 0x8b) continue;
    for (let i = at; i < bytes.length; i++) {
      if (bytes[i] !== 0) fail(`${bytes.length - at} bytes after member ${member} are neither another gzip member nor zero padding`);
    }
    break;
  }
  return out.result();
}
