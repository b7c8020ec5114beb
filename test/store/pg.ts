import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { freePort } from '../helpers/server.js';

/** The superuser URL scripts/test.mjs gives the tests (a throwaway server), or null. */
export const ADMIN_URL: string | null = process.env.TEST_DATABASE_URL ?? null;

/** Skip reason for node:test when no PostgreSQL is configured. */
export const NO_PG = ADMIN_URL === null ? 'TEST_DATABASE_URL is not set' : false;

/** `url` with another database name. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Create a fresh database (dropping any leftover of the same name); returns its URL. */
export async function freshDatabase(prefix: string, admin: string = ADMIN_URL!): Promise<string> {
  const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e6)}`.toLowerCase();
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists ${name}`);
    await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end();
  }
  return withDatabase(admin, name);
}

/** Run one query on `url` and close (tests inspect the tables directly). */
export async function query<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, types: { int8: { to: 20, from: [20], serialize: String, parse: Number } } as never });
  try {
    return (await sql.unsafe(text, params as never[])) as unknown as T[];
  } finally {
    await sql.end();
  }
}

function pgBin(): string | null {
  if (process.env.TEST_PG_BIN) return process.env.TEST_PG_BIN;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const v = readdirSync(base).filter((x) => existsSync(join(base, x, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return v.length ? join(base, v[0]!, 'bin') : null;
}

/** PostgreSQL refuses to run as root: its programs run as `postgres` then. */
function asPostgres(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) {
    spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  }
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  };
}

/** Signal a process that may have exited since it was listed (a backend whose client left). */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * A PostgreSQL server of the test's own, so the test may stop and start it without disturbing
 * the other test files (which share TEST_DATABASE_URL).
 */
export class PrivatePostgres {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://flashq@127.0.0.1:${this.port}/postgres`;
  }

  static available(): boolean {
    return pgBin() !== null;
  }

  static async create(): Promise<PrivatePostgres> {
    const bin = pgBin();
    if (!bin) throw new Error('no PostgreSQL binaries (TEST_PG_BIN)');
    const dir = mkdtempSync(join(tmpdir(), 'flashq-store-pg-'));
    const user = asPostgres();
    if ('uid' in user) chownSync(dir, user.uid, user.gid);
    const init = spawnSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'flashq', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
      ...user,
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const pg = new PrivatePostgres(bin, dir, await freePort());
    await pg.start();
    return pg;
  }

  async start(): Promise<void> {
    const user = asPostgres();
    const args = ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1'];
    const proc = spawn(join(this.bin, 'postgres'), args, { ...user, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr!.on('data', (d) => (log += d));
    this.proc = proc;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = spawnSync(join(this.bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(this.port)]);
      if (r.status === 0) return;
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`postgres did not start:\n${log}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  /**
   * Stop the server and its backends with SIGSTOP: connections stay open and nothing answers, as
   * when PostgreSQL hangs or the network drops packets. thaw() resumes them.
   */
  freeze(): void {
    for (const pid of this.processes()) signal(pid, 'SIGSTOP');
  }

  thaw(): void {
    for (const pid of this.processes()) signal(pid, 'SIGCONT');
  }

  /** The postmaster and its children, from /proc. */
  private processes(): number[] {
    const root = this.proc?.pid;
    if (root === undefined || this.proc!.exitCode !== null) return [];
    const out = [root];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === root) out.push(Number(d));
      } catch {
        // exited meanwhile
      }
    }
    return out;
  }

  /** Fast shutdown (open connections are cut, as in an outage). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((res) => p.once('exit', res));
    p.kill('SIGINT');
    await exited;
    this.proc = null;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
