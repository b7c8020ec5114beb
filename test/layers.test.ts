import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/layers.test.js → the repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(root, 'src');

/** The table of docs/layers.md: part → parts it may import. */
function allowedTable(): Map<string, Set<string>> {
  const table = new Map<string, Set<string>>();
  for (const line of readFileSync(join(root, 'docs', 'layers.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | `part` | `a`, `b` | why |
    if (cells.length < 4 || !/^`[a-z-]+`$/.test(cells[1]!)) continue;
    const part = cells[1]!.slice(1, -1);
    const may = [...cells[2]!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!);
    table.set(part, new Set(may));
  }
  return table;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** `front/http/index.ts` → `front`; `server.ts` → `server`. */
function partOf(srcRelative: string): string {
  const first = srcRelative.split('/')[0]!;
  return first.endsWith('.ts') ? first.slice(0, -3) : first;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;

/** Every relative import of src/ as [importing file, imported file], both relative to src/. */
function importEdges(): Array<[string, string]> {
  const edges: Array<[string, string]> = [];
  for (const file of tsFiles(SRC)) {
    const from = relative(SRC, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const to = posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts');
      edges.push([from, to]);
    }
  }
  return edges;
}

test('the layer table in docs/layers.md has no cycle', () => {
  const table = allowedTable();
  assert.ok(table.size >= 10, `expected the table's rows, found ${table.size}`);
  const state = new Map<string, 'open' | 'done'>();
  const visit = (part: string, path: string[]): void => {
    if (state.get(part) === 'done') return;
    assert.notEqual(state.get(part), 'open', `layers cycle: ${[...path, part].join(' → ')}`);
    state.set(part, 'open');
    for (const next of table.get(part) ?? []) {
      assert.ok(table.has(next), `${part} may import ${next}, which has no row`);
      visit(next, [...path, part]);
    }
    state.set(part, 'done');
  };
  for (const part of table.keys()) visit(part, []);
});

test('every import in src/ points down the layer table', () => {
  const table = allowedTable();
  const edges = importEdges();
  assert.ok(edges.length > 300, `expected the import graph of src/, found ${edges.length} edges`);
  const wrong: string[] = [];
  for (const [from, to] of edges) {
    const a = partOf(from);
    const b = partOf(to);
    const may = table.get(a);
    if (may === undefined) {
      wrong.push(`${from}: part "${a}" has no row in docs/layers.md`);
      continue;
    }
    if (a !== b && !may.has(b)) wrong.push(`${from} imports ${to} (${a} → ${b})`);
  }
  assert.deepEqual(wrong, []);
});

test('engine and ring import nothing above them', () => {
  for (const [from, to] of importEdges()) {
    const a = partOf(from);
    if (a === 'ring') assert.equal(partOf(to), 'ring', `${from} imports ${to}`);
    if (a === 'engine') assert.ok(['engine', 'base'].includes(partOf(to)), `${from} imports ${to}`);
  }
});

test('the checker sees a wrong import: the rule can fail', () => {
  const table = allowedTable();
  // what the store did before it reported recovery to a listener
  assert.equal(table.get('store')?.has('shard'), false);
  assert.equal(table.get('webhooks')?.has('front'), false);
  assert.equal(table.get('front')?.has('server'), false);
  assert.equal(partOf('front/http/index.ts'), 'front');
  assert.equal(partOf('server.ts'), 'server');
  const m = [..."import type { X } from '../shard/shard.js';\nexport { y } from './y.js';\nconst t: import('./z.js').Z;".matchAll(IMPORT)];
  assert.deepEqual(
    m.map((x) => x[1] ?? x[2]),
    ['../shard/shard.js', './y.js', './z.js'],
  );
});
