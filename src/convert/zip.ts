// Just enough of the zip format for torch.save archives: the central directory,
// STORED (uncompressed) entries, CRC-checked. torch writes every record stored
// (64-byte aligned through the local headers' extra field, with sizes only in the
// central directory), so compression support would be dead code.
import { crc32 } from '../io/crc32.ts';
import { CheckpointError } from './errors.ts';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export { crc32 };

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === LOCAL;
}

/** The archive's entries by name: views into `bytes`, each checked against its CRC when first read. */
export function readZip(bytes: Uint8Array, source: string): Map<string, () => Uint8Array> {
  const fail = (msg: string): never => {
    throw new CheckpointError(source, `zip archive: ${msg}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record is 22 bytes plus a comment of up to 65535.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (the file is truncated or not a zip archive)');
  const count = view.getUint16(eocd + 10, true);
  const dirOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff) fail('zip64 archive (over 65535 entries or 4 GiB): not supported');
  const entries = new Map<string, () => Uint8Array>();
  let at = dirOffset;
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL) fail(`central directory entry ${n} at byte ${at} is damaged`);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    if (at + 46 + skip > bytes.length) fail(`central directory entry ${n} runs past the end of the file`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + skip;
    entries.set(name, () => {
      if (method !== 0) fail(`entry '${name}' is compressed (method ${method}); only stored entries, as torch.save writes them, are supported`);
      if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) fail(`local header of '${name}' at byte ${local} is damaged`);
      const begin = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      if (begin + size > bytes.length) fail(`entry '${name}' (${size} bytes at ${begin}) runs past the end of the file: truncated`);
      const data = bytes.subarray(begin, begin + size);
      if (crc32(data) !== crc) fail(`entry '${name}' fails its CRC check: the file is corrupt`);
      return data;
    });
  }
  return entries;
}
