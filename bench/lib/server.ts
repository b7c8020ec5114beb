/**
 * Starts the built flashQ server as a child process on free loopback ports, the way
 * test/helpers/server.ts does, and exposes its pid so memory can be read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/main.js from dist/bench/lib/server.js; BENCH_SERVER_MAIN overrides it (a stand-in server) */
export const MAIN = process.env.BENCH_SERVER_MAIN ?? resolve(here, '../../src/main.js');

export type ServerEnv = Record<string, string>;

export interface FlashqServer {
  host: string;
  port: number;
  httpPort: number;
  grpcPort: number;
  pid: number;
  env: ServerEnv;
  /** resident set size of the whole server process (all its threads), bytes */
  rss(): number;
  output(): string;
  stop(): Promise<void>;
}

import { freePort } from '../../test/helpers/server.js';
export { freePort };

/** VmRSS of a process in bytes (Linux /proc; 0 elsewhere). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface StartOptions {
  /** extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=…'] */
  nodeArgs?: string[];
  timeoutMs?: number;
}

/**
 * A server on free ports. A port found free can be taken (by an outgoing connection's ephemeral
 * port, on a busy machine) before the server binds it: such a start is tried again on new ports.
 */
export async function startFlashq(env: ServerEnv = {}, opts: StartOptions = {}): Promise<FlashqServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, opts);
    } catch (e) {
      const raced = e instanceof Error && /EADDRINUSE|cannot listen/.test(e.message) && !(env.PORT && env.HTTP_PORT && env.GRPC_PORT);
      if (!raced || attempt >= 3) throw e;
    }
  }
}

async function startOnce(env: ServerEnv, opts: StartOptions): Promise<FlashqServer> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const httpPort = env.HTTP_PORT ? Number(env.HTTP_PORT) : await freePort();
  const grpcPort = env.GRPC_PORT ? Number(env.GRPC_PORT) : await freePort();
  const fullEnv: ServerEnv = {
    ...(process.env as ServerEnv),
    HOST: '127.0.0.1',
    PORT: String(port),
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    LOG_LEVEL: 'info',
    ...env,
  };
  // a DATABASE_URL inherited from the shell would silently turn every TCP number into a durable one
  if (!env.DATABASE_URL) delete fullEnv.DATABASE_URL;
  const proc: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), MAIN], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: string) => {
    // the log is only read for the start line and for error reports: keep its tail bounded
    out = out.length > 200_000 ? out.slice(-100_000) + d : out + d;
  };
  proc.stdout!.setEncoding('utf8').on('data', keep);
  proc.stderr!.setEncoding('utf8').on('data', keep);
  // 'close', not 'exit': the last log lines (why it stopped) arrive before it
  const exited = new Promise<void>((res) => proc.once('close', () => res()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`server did not start in ${timeoutMs} ms:\n${out.slice(-2000)}`));
    }, timeoutMs);
    const check = () => {
      if (out.includes('"msg":"listening"')) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        res();
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      rej(new Error(`server exited (${proc.exitCode ?? proc.signalCode}) before listening:\n${out.slice(-2000)}`));
    });
  });
  return {
    host: '127.0.0.1',
    port,
    httpPort,
    grpcPort,
    pid: proc.pid!,
    env: fullEnv,
    rss: () => rssOf(proc.pid!),
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
