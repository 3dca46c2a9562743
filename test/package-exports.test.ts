// The embedding API as an npm consumer gets it: package.json's "./embed" export, built by
// `npm run build:web` (esbuild for the JS, tools/build-types.ts for the declarations).
// A consumer project in a temp dir links the repo as node_modules/mem3d-webgpu and
// imports 'mem3d-webgpu/embed' only through the exports map: its code must typecheck
// against the shipped .d.ts under NodeNext and Bundler resolution (with the declarations
// themselves checked: no skipLibCheck), the built JS must load in Node with exactly the
// value exports the declarations name, and `npm pack` must ship what the exports, the
// CLI and the browser's weightsBaseUrl need.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { buildTypes, EMBED_DECLARATIONS, TYPES_DIST } from '../tools/build-types.ts';
import { buildWeb } from '../tools/build-web.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const NAME: string = pkg.name;

// Uses the API's types: a wrong or `any`-typed declaration fails here (the @ts-expect-error
// lines must each meet an error, so declarations typed `any` fail too).
const CONSUMER = `
import { createSegmenter, createVolume, getSlice, parseNifti, serializeNifti, type Segmenter, type Volume, type VoxelPoint } from '${NAME}/embed';

export async function segment(bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
  const segmenter: Segmenter = await createSegmenter({ weightsBaseUrl: '/weights/', cropSize: 128 });
  const volume: Volume = parseNifti(bytes);
  const info = segmenter.loadVolume(volume);
  const depth: number = info.depth;
  const points: VoxelPoint[] = [[1, 2], [3, 4], [5, 6], [7, 8]];
  const slice: Uint8Array = await segmenter.annotate(depth >> 1, points, { signal });
  await segmenter.propagate({ signal });
  const whole: Uint8Array = segmenter.mask();
  const nifti: Uint8Array = segmenter.exportNifti();
  segmenter.dispose();
  return whole.length > 0 ? nifti : slice;
}
export { createVolume, getSlice, serializeNifti };

// @ts-expect-error cropSize is a number
void createSegmenter({ weightsBaseUrl: '/weights/', cropSize: '128' });
// @ts-expect-error parseNifti takes bytes, not a file name
void parseNifti('image.nii.gz');
`;

let consumerDir = '';
const linkedRoot = () => join(consumerDir, 'node_modules', NAME);

test.before(async () => {
  await buildWeb();
  buildTypes();
  consumerDir = mkdtempSync(join(tmpdir(), 'mem3d-consumer-'));
  mkdirSync(join(consumerDir, 'node_modules'));
  symlinkSync(ROOT, linkedRoot(), 'dir');
  writeFileSync(join(consumerDir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  writeFileSync(join(consumerDir, 'consumer.ts'), CONSUMER);
});

test.after(() => {
  if (consumerDir) rmSync(consumerDir, { recursive: true, force: true });
});

test('package.json exports ./embed: types first, then the ESM bundle; both are built', () => {
  const embed = pkg.exports?.['./embed'];
  assert.ok(embed, 'package.json has no "./embed" export');
  // TypeScript takes the first matching condition, so "types" must precede "import".
  assert.equal(Object.keys(embed), ['types', 'import']);
  assert.is(join(ROOT, embed.types), EMBED_DECLARATIONS);
  assert.ok(existsSync(join(ROOT, embed.types)), `${embed.types} was not built`);
  assert.ok(existsSync(join(ROOT, embed.import)), `${embed.import} was not built`);
  assert.equal(pkg.bin, { mem3d: 'bin/mem3d.mjs' });
  // Packing builds; installing does not.
  assert.match(pkg.scripts.prepack, /build:web/);
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) assert.not.ok(pkg.scripts[hook], `a ${hook} script would build on npm ci`);
});

function consumerProgram(resolution: 'NodeNext' | 'Bundler'): ts.Program {
  return ts.createProgram([join(consumerDir, 'consumer.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    module: resolution === 'NodeNext' ? ts.ModuleKind.NodeNext : ts.ModuleKind.ESNext,
    moduleResolution: resolution === 'NodeNext' ? ts.ModuleResolutionKind.NodeNext : ts.ModuleResolutionKind.Bundler,
    // No ambient types of its own: GPU* names must come through the package's declarations.
    types: [],
    skipLibCheck: false,
  });
}

const diagnosticsText = (diagnostics: readonly ts.Diagnostic[]) =>
  ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => consumerDir, getNewLine: () => '\n' });

let nodeNextProgram: ts.Program | undefined;

for (const resolution of ['NodeNext', 'Bundler'] as const) {
  test(`a consumer typechecks against the shipped declarations (moduleResolution ${resolution})`, () => {
    const program = consumerProgram(resolution);
    if (resolution === 'NodeNext') nodeNextProgram = program;
    const diagnostics = ts.getPreEmitDiagnostics(program);
    assert.is(diagnostics.length, 0, diagnosticsText(diagnostics));
    const files = program.getSourceFiles().map((f) => realpathSync(f.fileName));
    assert.ok(files.includes(EMBED_DECLARATIONS), `'${NAME}/embed' did not resolve to ${relative(ROOT, EMBED_DECLARATIONS)}`);
    assert.not.ok(files.some((f) => f.startsWith(ROOT) && /\/(src|web)\/[^/]+.*\.ts$/.test(relative(ROOT, f)) && !f.endsWith('.d.ts')), 'the consumer compiled the package\'s .ts sources, not its declarations');
  });
}

function declaredValueExports(program: ts.Program): Map<string, ts.Symbol> {
  const source = program.getSourceFiles().find((f) => realpathSync(f.fileName) === EMBED_DECLARATIONS);
  assert.ok(source, 'the declarations are not in the consumer program');
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(source);
  assert.ok(moduleSymbol);
  const values = new Map<string, ts.Symbol>();
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (target.flags & ts.SymbolFlags.Value) values.set(exported.name, target);
  }
  return values;
}

test('the built module, imported through the exports map in Node, has exactly the declared value exports', () => {
  const script = `const m = await import('${NAME}/embed'); console.log(JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]))));`;
  const runtime: Record<string, string> = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: consumerDir, encoding: 'utf8' }));
  for (const name of ['createSegmenter', 'createVolume', 'getSlice', 'parseNifti', 'serializeNifti']) {
    assert.is(runtime[name], 'function', `${name} is ${runtime[name]} in the built module`);
  }
  assert.ok(nodeNextProgram, 'the NodeNext consumer test did not run');
  const declared = declaredValueExports(nodeNextProgram);
  assert.equal([...declared.keys()].sort(), Object.keys(runtime).sort(), 'declared and built value exports differ');
  for (const [name, symbol] of declared) {
    const callable = (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class)) !== 0;
    if (callable) assert.is(runtime[name], 'function', `${name} is declared a function or class, built as ${runtime[name]}`);
  }
});

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? declarationFiles(join(dir, d.name)) : d.name.endsWith('.d.ts') ? [join(dir, d.name)] : [],
  );
}

test('every package the declarations reference is a runtime dependency (a consumer installs it)', () => {
  const referenced = new Set<string>();
  for (const file of declarationFiles(TYPES_DIST)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\()\s*'([^'.][^']*)'|reference types="([^"]+)"/g)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('node:')) assert.unreachable(`${relative(ROOT, file)} needs Node's types ('${spec}')`);
      const parts = spec.split('/');
      referenced.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  assert.ok(referenced.has('@webgpu/types'), 'the declarations no longer reference @webgpu/types (GPUDevice...)');
  const dependencies: Record<string, string> = pkg.dependencies ?? {};
  for (const name of referenced) {
    assert.ok(name in dependencies, `the declarations reference '${name}', which is not in dependencies`);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
    const ownTypes = name.startsWith('@types/') || 'types' in manifest || 'typings' in manifest || existsSync(join(ROOT, 'node_modules', name, 'index.d.ts'));
    const typesPackage = `@types/${name.replace(/^@/, '').replace('/', '__')}`;
    if (!ownTypes) assert.ok(typesPackage in dependencies, `the declarations import '${name}', whose types (${typesPackage}) are not in dependencies`);
  }
});

test('npm pack ships the export targets, the CLI with its generated shaders, and every weights file', () => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 }));
  const files = new Set<string>(packed[0].files.map((f: { path: string }) => f.path));
  const embed = pkg.exports['./embed'];
  const needed = [embed.types, embed.import, pkg.bin.mem3d, 'src/cli/mem3d.ts', 'src/runtime/wgsl.generated.ts', 'package.json', 'README.md'];
  const weights = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? weights(`${dir}/${d.name}`) : [`${dir}/${d.name}`]));
  const weightFiles = weights('weights');
  assert.ok(weightFiles.some((f) => f.endsWith('.safetensors')), 'no weights in weights/');
  for (const file of [...needed.map((f) => f.replace(/^\.\//, '')), ...weightFiles, ...declarationFiles(TYPES_DIST).map((f) => relative(ROOT, f))]) {
    assert.ok(files.has(file), `npm pack leaves out ${file}`);
  }
  assert.not.ok([...files].some((f) => f.startsWith('test/') || f.startsWith('node_modules/')), 'npm pack ships tests or node_modules');
});

test.run();
