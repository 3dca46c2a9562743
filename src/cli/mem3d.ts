// mem3d <command> [args]: one entry for every command line tool. Commands are
// imported on use, so `convert` never loads the GPU runtime.

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: {
    summary: 'the full interactive loop on the bundled phantom CT volume, Dice per round',
    run: async (argv) => (await import('./eval.ts')).demoCommand(argv),
  },
  segment: {
    summary: 'segment a NIfTI volume from extreme points on one slice, write the mask',
    run: async (argv) => (await import('./segment.ts')).segmentCommand(argv),
  },
  eval: {
    summary: 'robot-user rounds on a PNG-slice dataset: Dice/IoU per round, JSON and SVG',
    run: async (argv) => (await import('./eval.ts')).evalCommand(argv),
  },
  bench: {
    summary: 'seconds per interactive round on a 512x512x100 phantom volume',
    run: async (argv) => (await import('../../bench/session.ts')).benchCommand(argv),
  },
  convert: {
    summary: 'PyTorch checkpoint (.pth) -> sharded safetensors, checked against a network',
    run: async (argv) => (await import('./convert.ts')).convertCommand(argv),
  },
};

const USAGE = `usage: mem3d <command> [args]   (mem3d <command> --help for its options)

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`mem3d: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
