// mem3d <command> [args]: one entry for every command line tool. `main` returns the
// exit code and prints through `io`, so tests run it in process; src/cli/mem3d.ts is
// the executable around it. Commands are imported on use, so `convert` never loads
// the GPU runtime.
import type { ConsoleLike } from './args.ts';

interface Command {
  summary: string;
  run(argv: string[], io: ConsoleLike): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: {
    summary: 'the full interactive loop on the bundled phantom CT volume, Dice per round',
    run: async (argv, io) => (await import('./eval.ts')).demoCommand(argv, io),
  },
  segment: {
    summary: 'segment a NIfTI volume from extreme points (voxel indices): a mask, or a label map of several structures',
    run: async (argv, io) => (await import('./segment.ts')).segmentCommand(argv, io),
  },
  eval: {
    summary: 'robot-user rounds on a PNG-slice dataset: Dice/IoU per round, JSON and SVG',
    run: async (argv, io) => (await import('./eval.ts')).evalCommand(argv, io),
  },
  bench: {
    summary: 'seconds per interactive round on a 512x512x100 phantom volume',
    run: async (argv, io) => (await import('./bench.ts')).benchCommand(argv, io),
  },
  tune: {
    summary: 'time the conv2d variants on this adapter and cache the fastest for every command',
    run: async (argv, io) => (await import('./tune.ts')).tuneCommand(argv, io),
  },
  conformance: {
    summary: 'the reference calling sequence on this adapter, every tensor against the PyTorch reference',
    run: async (argv, io) => (await import('./conformance.ts')).conformanceCommand(argv, io),
  },
  convert: {
    summary: 'PyTorch checkpoint (.pth) -> sharded safetensors, checked against a network',
    run: async (argv, io) => (await import('./convert.ts')).convertCommand(argv, io),
  },
};

const USAGE = `usage: mem3d <command> [args]   (mem3d <command> --help for its options)

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`).join('\n')}`;

export async function main(argv: string[], io: ConsoleLike = console): Promise<number> {
  const [name, ...rest] = argv;
  // Asked for, the usage is the output (stdout, exit 0); without a command it is an error (stderr, exit 2).
  if (name === undefined) {
    io.error(USAGE);
    return 2;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    io.log(USAGE);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.error(`mem3d: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  return command.run(rest, io);
}
