// Emits the embedding API's type declarations (web/embed.ts and the modules it
// references) into dist/types/ with plain tsc, for package.json's "./embed" export.
// Run: npm run build:types (npm run build:web runs it too).
//
// The sources import each other with `.ts` specifiers; tsc keeps them in the .d.ts files,
// and TypeScript resolves them there to the emitted .d.ts (checked by
// test/package-exports.test.ts under NodeNext and Bundler resolution). The WebGPU types
// (GPUDevice...) are ambient globals from @webgpu/types, which tsc no longer writes a
// reference for (TypeScript 5.5+), so the entry gets one here: a consumer then needs no
// `types` setting of its own.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = new URL('..', import.meta.url).pathname;
export const TYPES_DIST = join(ROOT, 'dist/types');
export const EMBED_DECLARATIONS = join(TYPES_DIST, 'web/embed.d.ts');
const WEBGPU_REFERENCE = '/// <reference types="@webgpu/types" />\n';

export function buildTypes(): string {
  rmSync(TYPES_DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.types.json')], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(EMBED_DECLARATIONS, WEBGPU_REFERENCE + readFileSync(EMBED_DECLARATIONS, 'utf8'));
  return TYPES_DIST;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`type declarations built into ${buildTypes()}`);
}
