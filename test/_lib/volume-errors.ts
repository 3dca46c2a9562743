import * as assert from 'uvu/assert';
import { VolumeError } from '../../src/volume/volume.ts';

/** Asserts `fn` throws a VolumeError whose message starts with `file` and mentions every part. */
export function throwsNaming(fn: () => unknown, file: string, ...parts: string[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, VolumeError);
    const msg = (e as Error).message;
    assert.ok(msg.startsWith(`${file}: `), `'${msg}' does not start with the file name ${file}`);
    for (const p of parts) assert.ok(msg.includes(p), `'${msg}' lacks '${p}'`);
    return;
  }
  assert.unreachable(`no error; expected one naming ${file} and mentioning ${parts.join(', ')}`);
}
