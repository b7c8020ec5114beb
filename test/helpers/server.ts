import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/main.js, resolved from dist/test/helpers/server.js */
export const MAIN = resolve(here, '../../src/main.js');

/**
 * Both runtime modes: the engine inline on the front thread, and two worker-thread shards
 * (design.md: both modes pass the same tests). End-to-end suites run once per mode.
 */
export const SHARD_MODES = ['0', '2'] as const;

/**
 * Where outgoing connections take their local ports (Linux picks them from this range only). A
 * test server restarted on its old ports (a cluster node after SIGKILL) failed with EADDRINUSE
 * when a client's connection had taken one of them as its local port meanwhile: listening ports
 * are chosen below the range, where no connection can take them.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 0;
  } catch {
    return 0;
  }
}
const BELOW = ephemeralLow();

function tryListen(port: number): Promise<number | null> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(null));
    s.listen(port, '127.0.0.1', () => {
      const addr = s.address();
      const got = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(got));
    });
  });
}

/** A free TCP port on 127.0.0.1, below the ephemeral range when there is room (else the kernel's pick). */
export async function freePort(): Promise<number> {
  if (BELOW > 12_000) {
    for (let i = 0; i < 50; i++) {
      const port = await tryListen(10_000 + Math.floor(Math.random() * (BELOW - 10_000)));
      if (port !== null) return port;
    }
  }
  const port = await tryListen(0);
  if (port === null) throw new Error('no free port on 127.0.0.1');
  return port;
}

export interface RunningServer {
  proc: ChildProcess;
  port: number;
  httpPort: number;
  grpcPort: number;
  env: Record<string, string>;
  /** everything the server printed so far */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Start the built server as a child process on free ports and resolve once it reports that it
 * listens (a `"msg":"listening"` log line), or kill it and reject after `timeoutMs`.
 */
export async function startServer(env: Record<string, string> = {}, timeoutMs = 30_000): Promise<RunningServer> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const httpPort = env.HTTP_PORT ? Number(env.HTTP_PORT) : await freePort();
  const grpcPort = env.GRPC_PORT ? Number(env.GRPC_PORT) : await freePort();
  const fullEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOST: '127.0.0.1',
    PORT: String(port),
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    LOG_LEVEL: 'info',
    ...env,
  };
  const proc = spawn(process.execPath, [MAIN], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => {
      // a server that starts after all would keep the test file alive until its timeout
      proc.kill('SIGKILL');
      rej(new Error(`server did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = () => {
      if (out.includes('"msg":"listening"')) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        res();
      }
    };
    proc.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    proc,
    port,
    httpPort,
    grpcPort,
    env: fullEnv,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}

/** Poll `cond` until it holds or `timeoutMs` passes (end-to-end tests wait for conditions, never sleep). */
export async function waitFor<T>(cond: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
