/** A checkpoint that cannot be read or converted; the message starts with the file it came from. */
export class CheckpointError extends Error {
  constructor(readonly source: string, message: string, options?: ErrorOptions) {
    super(`${source}: ${message}`, options);
    this.name = 'CheckpointError';
  }
}
