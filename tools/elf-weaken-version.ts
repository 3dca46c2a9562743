// npx tsx tools/elf-weaken-version.ts <lib.so> <VERSION>   (e.g. GLIBC_2.38)
// Marks a needed symbol version of a 64-bit little-endian ELF library weak
// (VER_FLG_WEAK in its .gnu.version_r entry), so the dynamic loader accepts a libc
// without that version. For tools/lavapipe-coopmat.sh: Debian trixie's lavapipe asks
// for GLIBC_2.38 only for the C23 strto* / sscanf entry points, which a shim library
// provides once their symbol versions are cleared (patchelf --clear-symbol-version).
import { readFileSync, writeFileSync } from 'node:fs';

const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 2;

const [path, version] = process.argv.slice(2);
if (!path || !version) {
  console.error('usage: elf-weaken-version.ts <lib.so> <VERSION>');
  process.exit(2);
}
const bytes = readFileSync(path);
const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
if (v.getUint32(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) throw new Error(`${path}: not a 64-bit little-endian ELF file`);
const shoff = Number(v.getBigUint64(0x28, true));
const [shentsize, shnum] = [v.getUint16(0x3a, true), v.getUint16(0x3c, true)];
const section = (i: number) => {
  const at = shoff + i * shentsize;
  return { type: v.getUint32(at + 4, true), offset: Number(v.getBigUint64(at + 0x18, true)), link: v.getUint32(at + 0x28, true), info: v.getUint32(at + 0x2c, true) };
};
const cString = (at: number) => bytes.toString('latin1', at, bytes.indexOf(0, at));
let weakened = 0;
for (let i = 0; i < shnum; i++) {
  const s = section(i);
  if (s.type !== SHT_GNU_VERNEED) continue;
  const strings = section(s.link).offset;
  // Verneed entries (file, aux list), s.info of them; each aux (Vernaux) names one version.
  for (let need = s.offset, n = 0; n < s.info; n++) {
    const [auxCount, file, auxOffset, next] = [v.getUint16(need + 2, true), v.getUint32(need + 4, true), v.getUint32(need + 8, true), v.getUint32(need + 12, true)];
    for (let aux = need + auxOffset, k = 0; k < auxCount; k++) {
      if (cString(strings + v.getUint32(aux + 8, true)) === version) {
        v.setUint16(aux + 4, v.getUint16(aux + 4, true) | VER_FLG_WEAK, true);
        console.log(`${path}: ${cString(strings + file)} ${version} marked weak`);
        weakened++;
      }
      aux += v.getUint32(aux + 12, true);
    }
    need += next;
  }
}
if (!weakened) throw new Error(`${path}: needs no version ${version}`);
writeFileSync(path, bytes);
