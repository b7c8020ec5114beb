import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the dashboard, held in memory with the headers it is served with. */
export interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
  cacheControl: string;
}

/**
 * The dashboard as built into the package (`npm run build` fills dist/dashboard). Assets live under
 * a path that names the build (`/dashboard/assets/<hash>/…`), so they are cached for good and a
 * new build is fetched at once; the page itself is revalidated on every load (ETag).
 */
export interface DashboardAssets {
  page: Asset;
  /** URL path → asset */
  files: Map<string, Asset>;
  base: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
/** Written by the build into index.html where asset URLs start. */
const BASE_MARK = '%ASSETS%';

/** dist/dashboard, seen from dist/src/dashboard/assets.js */
export const DEFAULT_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (TYPES[extname(name)] !== undefined && !name.endsWith('.map')) out.push(p);
  }
  return out;
}

function asset(body: Buffer, file: string, cacheControl: string): Asset {
  const etag = '"' + createHash('sha256').update(body).digest('base64url').slice(0, 22) + '"';
  return { body, contentType: TYPES[extname(file)]!, etag, cacheControl };
}

/** Read the built dashboard into memory; null when it was not built (the routes then say so). */
export function loadDashboard(dir = DEFAULT_DIR): DashboardAssets | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const paths = walk(dir, []).sort();
  const build = createHash('sha256');
  const contents = new Map<string, Buffer>();
  for (const p of paths) {
    const rel = relative(dir, p).split(sep).join('/');
    const body = readFileSync(p);
    contents.set(rel, body);
    build.update(rel).update('\0').update(body);
  }
  const base = `/dashboard/assets/${build.digest('hex').slice(0, 12)}/`;
  const files = new Map<string, Asset>();
  for (const [rel, body] of contents) if (rel !== 'index.html') files.set(base + rel, asset(body, rel, IMMUTABLE));
  const html = contents.get('index.html')!.toString('utf8').split(BASE_MARK).join(base);
  return { page: asset(Buffer.from(html), 'index.html', REVALIDATE), files, base };
}
