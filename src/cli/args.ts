/**
 * Command-line parsing for flashq-ts: `--name=value`, `--name value`, boolean `--name` /
 * `--no-name`, and positionals; plus the connection options every command shares.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { ClientOptions } from '../client/index.js';

/** Flags that take no value. */
const BOOLEAN = new Set(['json', 'tls', 'insecure', 'lifo', 'ack', 'help', 'children', 'bullmq-only']);

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Args {
  positionals: string[];
  flags: Map<string, string | boolean>;
}

export function parseArgs(argv: string[]): Args {
  const positionals: string[] = [];
  const flags = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a.length === 2) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (eq >= 0) flags.set(name, a.slice(eq + 1));
    else if (BOOLEAN.has(name)) flags.set(name, true);
    else if (name.startsWith('no-') && BOOLEAN.has(name.slice(3))) flags.set(name.slice(3), false);
    else if (i + 1 < argv.length) flags.set(name, argv[++i]!);
    else throw new UsageError(`--${name} needs a value`);
  }
  return { positionals, flags };
}

export function str(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') throw new UsageError(`--${name} needs a value`);
  return v;
}

export function bool(args: Args, name: string, def = false): boolean {
  const v = args.flags.get(name);
  if (v === undefined) return def;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new UsageError(`--${name} takes true or false, not ${JSON.stringify(v)}`);
}

/** An integer flag within [min, max]. */
export function int(args: Args, name: string, def: number, min?: number, max?: number): number;
export function int(args: Args, name: string, def: undefined, min?: number, max?: number): number | undefined;
export function int(args: Args, name: string, def: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(args, name);
  if (v === undefined) return def;
  const n = /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(v)}`);
  return n;
}

export function positional(args: Args, index: number, what: string): string {
  const v = args.positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

/** A JSON argument; a bare word that is not JSON is taken as a string. */
export function jsonValue(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (/^[\[{"]/.test(text.trim())) throw new UsageError(`${what} is not valid JSON: ${text.slice(0, 80)}`);
    return text;
  }
}

function tlsOptions(args: Args): TlsConnectionOptions | undefined {
  const ca = str(args, 'ca');
  const cert = str(args, 'cert');
  const key = str(args, 'key');
  const insecure = bool(args, 'insecure');
  if (!bool(args, 'tls') && !ca && !cert && !key && !insecure) return undefined;
  const read = (f: string, what: string) => {
    try {
      return readFileSync(f);
    } catch (e) {
      throw new UsageError(`cannot read --${what} ${f}: ${(e as Error).message}`);
    }
  };
  const o: TlsConnectionOptions = {};
  if (ca) o.ca = read(ca, 'ca');
  if (cert) o.cert = read(cert, 'cert');
  if (key) o.key = read(key, 'key');
  if (insecure) o.rejectUnauthorized = false;
  return o;
}

export interface Target extends ClientOptions {
  httpPort: number;
}

/** `host:port` (or `[v6]:port`) of --nodes. */
function parseNode(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):([0-9]{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`--nodes takes host:port,host:port,…; not ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2])!, port };
}

/** A port from the environment, checked like the flag it stands in for. */
function envPort(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${name} must be a port number, not ${JSON.stringify(v)}`);
  return n;
}

/**
 * Where to connect: --host (127.0.0.1), --port (6789), --nodes (host:port,… of a cluster: one at a
 * time, the next when one fails), --socket (a Unix socket path), --token,
 * --tls with --ca/--cert/--key/--insecure, --http-port (6790) for the commands that need the HTTP
 * API. FLASHQ_HOST, FLASHQ_PORT, FLASHQ_HTTP_PORT and FLASHQ_TOKEN (which keeps the token out of
 * the process list) stand in for the flags.
 */
export function target(args: Args): Target {
  const t: Target = {
    host: str(args, 'host') ?? (process.env.FLASHQ_HOST || '127.0.0.1'),
    port: int(args, 'port', envPort('FLASHQ_PORT', 6789), 1, 65535),
    httpPort: int(args, 'http-port', envPort('FLASHQ_HTTP_PORT', 6790), 1, 65535),
    reconnect: false,
    connectTimeoutMs: 5000,
  };
  const socket = str(args, 'socket');
  if (socket) t.path = socket;
  const nodes = str(args, 'nodes') ?? process.env.FLASHQ_NODES;
  if (nodes) t.nodes = nodes.split(',').filter(Boolean).map(parseNode);
  const token = str(args, 'token') ?? process.env.FLASHQ_TOKEN;
  if (token) t.token = token;
  const tls = tlsOptions(args);
  if (tls) t.tls = tls;
  return t;
}
