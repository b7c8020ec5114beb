/**
 * A throwaway redis-server for the BullMQ comparison: 127.0.0.1, a free port, no persistence
 * (`--save '' --appendonly no`, as BullMQ benchmarks are usually run), stopped at the end. A tiny
 * RESP client reads INFO and LLEN so the main thread needs no Redis library.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { freePort } from './server.js';

export const REDIS_SERVER = process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server';

export interface RedisServer {
  port: number;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

export async function startRedis(timeoutMs = 10_000): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} not found`);
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning'];
  const proc: ChildProcess = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-20_000)));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
    try {
      if ((await command(port, ['PING'])) === 'PONG') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server did not answer in ${timeoutMs} ms: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const info = await command(port, ['INFO', 'server']);
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  return {
    port,
    pid: proc.pid!,
    version,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** One command; resolves with a simple/bulk string or an integer as text. */
export function command(port: number, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((res, rej) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      rej(new Error(`redis ${args[0]}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err: Error | null, v?: string) => {
      clearTimeout(timer);
      s.destroy();
      if (err) rej(err);
      else res(v!);
    };
    s.on('error', (e) => done(e));
    s.on('connect', () => {
      s.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const head = buf.toString('utf8', 0, eol);
      if (head[0] === '+' || head[0] === ':') return done(null, head.slice(1));
      if (head[0] === '-') return done(new Error(`redis ${args[0]}: ${head.slice(1)}`));
      if (head[0] === '$') {
        const len = Number(head.slice(1));
        if (len < 0) return done(null, '');
        if (buf.length >= eol + 2 + len) done(null, buf.toString('utf8', eol + 2, eol + 2 + len));
        return;
      }
      done(new Error(`redis ${args[0]}: unexpected answer ${head}`));
    });
  });
}

/** INFO memory fields, bytes. */
export async function redisMemory(port: number): Promise<{ used: number; rss: number }> {
  const info = await command(port, ['INFO', 'memory']);
  const field = (k: string) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { used: field('used_memory'), rss: field('used_memory_rss') };
}
