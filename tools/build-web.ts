// Bundles the web viewer (web/src/main.ts), the embedding entry (web/embed.ts) and the
// NiiVue example (examples/niivue) into dist/web/ with esbuild. Run: npm run build:web
// Every file is replaced whole (written beside, then renamed): the test runner's browser
// scripts and package-exports test each build it, and a page loading the bundle while
// another process rebuilds it must never read a half-written file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { writeFileAtomic } from '../src/volume/safe-write-node.ts';

const ROOT = new URL('..', import.meta.url).pathname;
export const WEB_DIST = join(ROOT, 'dist/web');

export async function buildWeb(options: { minify?: boolean } = {}): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: { app: join(ROOT, 'web/src/main.ts'), embed: join(ROOT, 'web/embed.ts'), niivue: join(ROOT, 'examples/niivue/main.ts') },
    outdir: WEB_DIST,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Only Node's device path imports it, through a module name built at run time.
    external: ['webgpu'],
    sourcemap: 'linked',
    minify: options.minify ?? false,
    logLevel: 'warning',
    write: false,
  });
  for (const f of outputFiles) writeFileAtomic(f.path, f.contents);
  writeFileAtomic(join(WEB_DIST, 'index.html'), readFileSync(join(ROOT, 'web/index.html')));
  writeFileAtomic(join(WEB_DIST, 'niivue.html'), readFileSync(join(ROOT, 'examples/niivue/index.html')));
  return WEB_DIST;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await buildWeb({ minify: process.argv.includes('--minify') });
  console.log(`web viewer built into ${out}`);
}
