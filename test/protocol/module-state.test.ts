import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Parsers keep no state at module level (docs/layers.md, "Parser state"): every cursor, side
 * result, scratch buffer and memo lives in an instance its owner made, so two owners (two shards
 * in one thread, a front and its fanout, a decode started inside another's callback) never see
 * each other's partial work. Read from the source's syntax tree, a module of src/protocol/ may
 * not have at top level:
 *   1. a `let` or `var`;
 *   2. a `const` made with `new`, except a lookup typed ReadonlySet/ReadonlyMap or an empty typed array;
 *   3. a write, from inside any function, to a top-level binding or anything reached through it
 *      (`x = …`, `x.f = …`, `x[i]++`, or a mutating call such as `x.set(…)` / `x.push(…)`).
 * Tables built by top-level statements while the module loads (KNOWN_KEYS) are allowed: they never
 * change afterwards.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PROTOCOL = join(root, 'src', 'protocol');
const MUTATORS = new Set(['set', 'delete', 'clear', 'add', 'push', 'pop', 'shift', 'unshift', 'splice', 'fill', 'copyWithin', 'sort', 'reverse']);

function rootName(e: ts.Expression): string | null {
  while (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e) || ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  return ts.isIdentifier(e) ? e.text : null;
}

function isAssignment(k: ts.SyntaxKind): boolean {
  return k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment;
}

/** Findings for one module's text: `line: problem`. */
export function moduleStateFindings(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const at = (n: ts.Node) => `${fileName}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const topNames = new Set<string>();
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0;
    for (const d of st.declarationList.declarations) {
      if (!ts.isIdentifier(d.name)) continue;
      topNames.add(d.name.text);
      if (!isConst) out.push(`${at(d)}: top-level let/var ${d.name.text}`);
      const init = d.initializer;
      if (isConst && init !== undefined && ts.isNewExpression(init)) {
        const cls = init.expression.getText(sf);
        const type = d.type?.getText(sf) ?? '';
        const emptyTyped = /Array$/.test(cls) && init.arguments?.length === 1 && init.arguments[0]!.getText(sf) === '0';
        const readonlyLookup = (cls === 'Set' || cls === 'Map') && /^Readonly(Set|Map)</.test(type);
        if (!emptyTyped && !readonlyLookup) out.push(`${at(d)}: top-level instance ${d.name.text} = new ${cls}(…)`);
      }
    }
  }
  const visit = (n: ts.Node, inFunction: boolean): void => {
    const fn = inFunction || ts.isFunctionLike(n);
    if (fn) {
      let target: ts.Expression | null = null;
      if (ts.isBinaryExpression(n) && isAssignment(n.operatorToken.kind)) target = n.left;
      else if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken)) target = n.operand;
      else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && MUTATORS.has(n.expression.name.text)) target = n.expression.expression;
      const name = target === null ? null : rootName(target);
      if (name !== null && topNames.has(name)) out.push(`${at(n)}: a function writes module-level ${name}`);
    }
    ts.forEachChild(n, (c) => visit(c, fn));
  };
  for (const st of sf.statements) visit(st, false);
  return out;
}

test('no module under src/protocol/ keeps mutable parser state at top level', () => {
  const findings: string[] = [];
  for (const name of readdirSync(PROTOCOL)) {
    if (name.endsWith('.ts')) findings.push(...moduleStateFindings(name, readFileSync(join(PROTOCOL, name), 'utf8')));
  }
  assert.deepEqual(findings, []);
});

test('the check catches each kind of module state it forbids', () => {
  // the shapes the parsers had before their state moved into instances
  const cases: Array<[string, RegExp]> = [
    ['let next = 0;\nexport function f() { next = 1; }', /top-level let\/var next/],
    ['export const walk = { escaped: false };\nexport function skip() { walk.escaped = true; }', /writes module-level walk/],
    ['const rd = { pos: 0 };\nexport function v() { rd.pos++; }', /writes module-level rd/],
    ['const sources = new Map<number, string>();\nexport function s() { sources.set(1, "a"); }', /instance sources = new Map/],
    ['const writer = new AnswerWriter();', /instance writer = new AnswerWriter/],
    ['let stack = new Uint8Array(64);', /top-level let\/var stack/],
  ];
  for (const [src, want] of cases) assert.match(moduleStateFindings('case.ts', src).join('\n'), want, src);
  // what stays allowed: constants, read-only lookups, empty typed arrays, tables built while loading
  const allowed = [
    'const EMPTY = new Uint8Array(0);',
    'const KEYS: ReadonlySet<string> = new Set(["a"]);',
    'const BY_LEN: string[][] = [];\nfor (const k of ["ab"]) (BY_LEN[k.length] ??= []).push(k);',
    'export class P { private pos = 0; step() { this.pos++; } }',
    'export function f(b: Uint8Array) { const s = { n: 0 }; s.n++; return s; }',
  ];
  for (const src of allowed) assert.deepEqual(moduleStateFindings('case.ts', src), [], src);
});
