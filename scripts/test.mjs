#!/usr/bin/env node
// Runs every compiled test under dist/test with node's test runner, against a throwaway
// PostgreSQL started here (initdb in a temp dir, 127.0.0.1, a free port) so the store tests run
// for real. Installs Debian's postgresql with apt-get when its binaries are missing, and Debian's
// chromium when the dashboard tests run without it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);

function findPgBin() {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(base, versions[0], 'bin');
  }
  return null;
}

function ensurePostgres() {
  let bin = findPgBin();
  if (bin) return bin;
  if (process.getuid?.() !== 0) return null;
  console.log('# installing postgresql with apt-get');
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', '-qq', 'postgresql'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return findPgBin();
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => res(port));
    });
  });
}

/** PostgreSQL refuses to run as root: run its programs as the `postgres` user (created if needed). */
function pgUser() {
  if (process.getuid?.() !== 0) return null;
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) {
    spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'inherit' });
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

async function startPostgres(bin) {
  const dir = mkdtempSync(join(tmpdir(), 'flashq-pg-'));
  const user = pgUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const opts = user ? { uid: user.uid, gid: user.gid } : {};
  const init = spawnSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'flashq', '--auth=trust', '-E', 'UTF8', '--no-sync'], { ...opts, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const proc = spawn(
    join(bin, 'postgres'),
    ['-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on', '-c', 'max_connections=200'],
    { ...opts, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]);
    if (r.status === 0) break;
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`postgres did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `postgres://flashq@127.0.0.1:${port}/postgres`,
    bin,
    stop() {
      proc.kill('SIGINT');
      const until = Date.now() + 10_000;
      while (proc.exitCode === null && Date.now() < until) spawnSync('sleep', ['0.05']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const distTest = join(root, 'dist', 'test');
if (!existsSync(distTest)) {
  console.error('dist/test is missing: run `npm run build` first');
  process.exit(1);
}
const filter = args.filter((a) => !a.startsWith('-'));
const files = testFiles(distTest).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));

// the dashboard tests drive Debian's Chromium (headless): install it when they run and it is missing
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (files.some((f) => f.includes(join('test', 'dashboard'))) && !existsSync(chromium)) {
  if (process.getuid?.() === 0) {
    console.log('# installing chromium with apt-get');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (!existsSync(chromium)) {
    console.error(`${chromium} is missing and cannot be installed here (not root): the dashboard tests need it`);
    process.exit(1);
  }
}

let pg = null;
if (!process.env.TEST_DATABASE_URL && process.env.TEST_NO_POSTGRES !== '1') {
  const bin = ensurePostgres();
  if (!bin) {
    console.error('postgresql is not installed and cannot be installed here (not root): the store tests need it');
    process.exit(1);
  }
  pg = await startPostgres(bin);
  console.log(`# throwaway postgresql at ${pg.url}`);
}
const env = { ...process.env, ...(pg ? { TEST_DATABASE_URL: pg.url, TEST_PG_BIN: pg.bin } : {}) };
// TAP on stdout as before, and the failures alone into a file printed last, so the end of the
// output names what failed
const failuresFile = join(mkdtempSync(join(tmpdir(), 'flashq-test-')), 'failures.txt');
const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'scripts', 'failures-reporter.mjs')}`, `--test-reporter-destination=${failuresFile}`];
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...reporters, ...files], { stdio: 'inherit', env, cwd: root });
const code = await new Promise((res) => child.on('exit', (c, sig) => res(c ?? (sig ? 1 : 0))));
pg?.stop();
if (existsSync(failuresFile)) {
  const failed = readFileSync(failuresFile, 'utf8');
  if (failed) console.log(failed);
  rmSync(dirname(failuresFile), { recursive: true, force: true });
}
process.exit(code);
