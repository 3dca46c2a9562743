// A small static server for the web viewer: dist/web at /, the package's weights/
// at /weights/ and examples/ at /examples/, on 127.0.0.1 (WebGPU and the Cache
// Storage need a secure context; localhost counts as one). Run: npm run serve
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = new URL('..', import.meta.url).pathname;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  // Served as is, never with content-encoding: the page reads the gzip bytes itself.
  '.gz': 'application/gzip',
  '.nii': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** URL prefix -> folder; the first matching prefix wins. */
function mounts(webDir: string): [string, string][] {
  return [['/weights/', join(ROOT, 'weights')], ['/examples/', join(ROOT, 'examples')], ['/', webDir]];
}

function resolve(url: string, webDir: string): string | null {
  const path = decodeURIComponent(new URL(url, 'http://x').pathname);
  for (const [prefix, dir] of mounts(webDir)) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, path.slice(prefix.length) || 'index.html'));
    return file === dir || file.startsWith(dir + sep) ? file : null;
  }
  return null;
}

export function serveWeb(options: { port?: number; host?: string; webDir?: string } = {}): Promise<Server> {
  const webDir = options.webDir ?? join(ROOT, 'dist/web');
  const server = createServer((req, res) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? resolve(req.url ?? '/', webDir) : null;
    let size = -1;
    try {
      if (file) {
        const st = statSync(file);
        if (st.isFile()) size = st.size;
      }
    } catch {
      // a missing file is a 404 below
    }
    if (!file || size < 0) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => done(server));
  });
}

export function serverUrl(server: Server): string {
  const a = server.address() as AddressInfo;
  return `http://${a.address}:${a.port}/`;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8080);
  const server = await serveWeb({ port });
  console.log(`web viewer on ${serverUrl(server)} (dist/web; build it with npm run build:web)`);
}
