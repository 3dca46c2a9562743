// Helpers for parsers of untrusted files: describe a value in an error message
// without serialising it (JSON.stringify of a value nested 20,000 deep overflows
// the stack, of a cyclic one throws, of a BigInt throws), and measure JSON nesting
// before JSON.parse (V8 takes seconds on text nested 10^6 deep).

/** Longest string quoted in a message; longer ones are cut with '...'. */
const MAX_QUOTED = 40;

/**
 * A short, bounded description of an untrusted value: strings quoted (cut to 40
 * characters), numbers and booleans as written, containers by kind and size only.
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > MAX_QUOTED ? `${v.slice(0, MAX_QUOTED)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `${v}`.length > MAX_QUOTED ? 'a very large integer' : `${v}`;
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v instanceof Map) return `a dict of ${v.size} item${v.size === 1 ? '' : 's'}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** A list of small numbers as `[a, b, c]`, or a count when it is long (a shape of 10^6 dimensions stays one line). */
export function describeList(v: readonly unknown[], max = 8): string {
  return v.length <= max ? `[${v.map(describeValue).join(', ')}]` : `[${v.slice(0, max).map(describeValue).join(', ')}, ... (${v.length} items)]`;
}

/**
 * The nesting depth of JSON text ([ and { outside strings), scanning at most until
 * it exceeds `limit`: returns limit + 1 then. Linear, no recursion; the text need
 * not be valid JSON (JSON.parse judges that afterwards).
 */
export function jsonNestingDepth(text: Uint8Array | string, limit: number): number {
  const code = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i];
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = code(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest && (deepest = depth) > limit) return depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
