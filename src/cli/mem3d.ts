// The mem3d executable (bin/mem3d.mjs, npm scripts): runs main and sets the exit code.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
