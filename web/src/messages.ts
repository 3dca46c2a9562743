// What the viewer tells a user when something fails: one plain sentence on what
// happened and what to do, the engine's own message kept as details (shown behind a
// toggle). Matched on error names, which survive bundling, not on classes.

export interface UserMessage {
  text: string;
  details: string;
}

/** Header field names and raw numbers mean nothing to most users: such reasons stay in the details. */
const TECHNICAL = /sizeof_hdr|vox_offset|bitpix|datatype \d|dim\[|magic|byte/i;

function detailsOf(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.cause ? `\ncaused by: ${(e.cause as Error).message ?? e.cause}` : ''}`;
  return String(e);
}

export function isAbort(e: unknown): boolean {
  return (e as { name?: string } | null)?.name === 'AbortError';
}

/** `doing`: what the user had asked for, e.g. "Opening image.nii.gz". */
export function userMessage(e: unknown, doing: string): UserMessage {
  const name = (e as { name?: string } | null)?.name ?? '';
  const message = String((e as { message?: string } | null)?.message ?? e);
  const details = detailsOf(e);
  const say = (text: string) => ({ text, details });
  switch (name) {
    case 'VolumeError':
      // The reader's reason when it is plain words (NIfTI-2, 4-D, complex voxels), not header field values.
      return say(`${doing} failed: the file is not a volume this viewer can read (a 3-D NIfTI-1 file, .nii or .nii.gz).${TECHNICAL.test(message) ? '' : ` ${firstClause(message)}`}`);
    case 'NoAdapterError':
      return say('This browser offers WebGPU but found no graphics adapter for it, so the networks cannot run here. Volumes can still be viewed.');
    case 'DeviceLostError':
      return say(`${doing} stopped: the graphics device was lost (it may have run out of memory, or its driver restarted). Your masks and annotations are kept: press Reconnect GPU to go on.`);
    case 'GpuKernelError':
      return say(`${doing} failed: the graphics device stopped working (it may have run out of memory). Export the label map now if the session holds work (Export still runs), then reload the page to start again.`);
    case 'SafetensorsError':
    case 'WeightMismatchError':
      return say(`${doing} failed: the network weight files on the server are damaged or do not belong to this version of the viewer.`);
    case 'TypeError':
      if (/fetch|network/i.test(message)) return say(`${doing} failed: a file could not be downloaded. Check the connection to the server and reload.`);
      break;
    case 'RangeError':
      if (/affine/.test(message)) return say(`${doing} failed: the file's orientation (its affine) is broken, so the viewer cannot tell left from right in it.`);
      return say(`${doing}: ${firstClause(message)}`);
  }
  return say(`${doing} failed: ${firstClause(message)}`);
}

/** The message's first line, without the "function:" prefix engine messages carry. */
function firstClause(message: string): string {
  const line = message.split('\n')[0].replace(/^[\w.]+: (?=[a-z])/, '');
  return line.charAt(0).toUpperCase() + line.slice(1) + (/[.!?]$/.test(line) ? '' : '.');
}
