#!/usr/bin/env node
// Completes dist/dashboard after `tsc -p src/dashboard/web/tsconfig.json` compiled the page's
// scripts into dist/dashboard/js: copies the page (HTML, CSS) and the chart library from its npm
// package, so the server serves everything from the package itself (no CDN, works offline).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const web = join(root, 'src', 'dashboard', 'web');
const out = join(root, 'dist', 'dashboard');
mkdirSync(join(out, 'vendor'), { recursive: true });

for (const name of readdirSync(web)) {
  if (name.endsWith('.html') || name.endsWith('.css') || name.endsWith('.svg')) copyFileSync(join(web, name), join(out, name));
}

// resolved through node's own lookup, so a hoisted or nested install both work
const require = createRequire(import.meta.url);
const uplotDist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
copyFileSync(join(uplotDist, 'uPlot.iife.min.js'), join(out, 'vendor', 'uPlot.iife.min.js'));
copyFileSync(join(uplotDist, 'uPlot.min.css'), join(out, 'vendor', 'uPlot.min.css'));
