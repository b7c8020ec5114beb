/**
 * The README's examples run as written: every ```js and ```sh block, in order, against a real
 * server, unless an `<!-- not run: why -->` line stands right above it. A js block starting with
 * `// file: NAME` is written as that file for the blocks after it. The one change made is the
 * port numbers: the default ports 6789/6790 become the test server's (for the command line, through
 * FLASHQ_PORT/FLASHQ_HTTP_PORT), and `flashq-ts` is the package's bin, as npm would install it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from './helpers/server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Block {
  lang: 'js' | 'sh';
  code: string;
  line: number;
}

function blocks(markdown: string): { run: Block[]; skipped: number } {
  const lines = markdown.split('\n');
  const run: Block[] = [];
  let skipped = 0;
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!m) continue;
    const end = lines.indexOf('```', i + 1);
    const code = lines.slice(i + 1, end).join('\n') + '\n';
    let prev = i - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    const lang = m[1]!;
    if ((lang === 'js' || lang === 'sh') && !/^<!-- not run:/.test(lines[prev] ?? '')) run.push({ lang, code, line: i + 1 });
    else if (lang === 'js' || lang === 'sh') skipped++;
    i = end;
  }
  return { run, skipped };
}

function exec(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile(file, args, { cwd, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

describe('README examples', () => {
  let server: RunningServer;
  // inside the package, so `flashq-ts/client` resolves to this package as it would once installed
  const work = join(root, '.tmp', `readme-${process.pid}`);
  const bin = join(work, 'bin');
  before(async () => {
    server = await startServer();
    mkdirSync(bin, { recursive: true });
    const cli = join(root, 'dist/src/cli/main.js');
    chmodSync(cli, 0o755);
    symlinkSync(cli, join(bin, 'flashq-ts'));
  });
  after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('every js and sh block runs and exits 0', async () => {
    const { run, skipped } = blocks(readFileSync(join(root, 'README.md'), 'utf8'));
    assert.ok(run.filter((b) => b.lang === 'js').length >= 4, 'the client examples are found');
    assert.ok(run.filter((b) => b.lang === 'sh').length >= 2, 'the command-line examples are found');
    // install-and-serve, netcat, and the cluster (PostgreSQL, three servers until stopped)
    assert.ok(skipped <= 3, `${skipped} blocks marked not run`);
    const ports = (code: string) => code.replaceAll('6789', String(server.port)).replaceAll('6790', String(server.httpPort));
    const env = { PATH: `${bin}:${process.env.PATH}`, FLASHQ_PORT: String(server.port), FLASHQ_HTTP_PORT: String(server.httpPort), NO_COLOR: '1' };
    let n = 0;
    for (const b of run) {
      const file = /^\/\/ file: (\S+)\n/.exec(b.code)?.[1];
      if (file) {
        writeFileSync(join(work, file), b.code);
        continue;
      }
      const name = join(work, `block-${++n}.${b.lang === 'js' ? 'mjs' : 'sh'}`);
      writeFileSync(name, ports(b.code));
      const r = b.lang === 'js' ? await exec(process.execPath, [name], work, env) : await exec('bash', ['-euo', 'pipefail', name], work, env);
      assert.equal(r.code, 0, `README line ${b.line} (${b.lang}) exited ${r.code}:\n${b.code}\n--- output ---\n${r.out}`);
    }
  });
});
