/**
 * The few HTTP routes the TCP protocol has no command for (the job browser): a tiny JSON client
 * over node:http/https that unwraps the `{ok,data,error}` envelope. TLS options are the
 * connection's, so one `tls` setting covers both surfaces.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { FlashqClientError, FlashqConnectionError } from './errors.js';

export interface HttpOptions {
  /** base URL of the HTTP API; default `http(s)://{host}:{httpPort}` */
  httpUrl?: string;
  /** default 6790 */
  httpPort?: number;
  host?: string;
  token?: string;
  tls?: boolean | TlsConnectionOptions;
  /** per request; default 30,000 */
  timeoutMs?: number;
}

export class HttpApi {
  readonly base: URL;
  private readonly token: string | undefined;
  private readonly tls: TlsConnectionOptions | null;
  private readonly timeoutMs: number;

  constructor(o: HttpOptions) {
    this.tls = o.tls === true ? {} : o.tls || null;
    const host = o.host ?? '127.0.0.1';
    const bracketed = host.includes(':') ? `[${host}]` : host;
    this.base = new URL(o.httpUrl ?? `${this.tls ? 'https' : 'http'}://${bracketed}:${o.httpPort ?? 6790}`);
    this.token = o.token;
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  /** GET a route; resolves with the envelope's `data`, rejects with the envelope's `error`. */
  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return this.send<T>('GET', url);
  }

  private send<T>(method: string, url: URL): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const what = `${method} ${url.pathname}`;
    return new Promise<T>((resolve, reject) => {
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: { ok?: boolean; data?: unknown; error?: string };
          try {
            body = JSON.parse(text) as typeof body;
          } catch {
            reject(new FlashqClientError(`${what}: HTTP ${res.statusCode}, not a JSON envelope: ${text.slice(0, 200)}`, what));
            return;
          }
          if (body.ok) resolve(body.data as T);
          else reject(new FlashqClientError(body.error ?? `HTTP ${res.statusCode}`, what));
        });
      };
      const opts = { method, headers, timeout: this.timeoutMs };
      const req = url.protocol === 'https:' ? httpsRequest(url, { ...(this.tls ?? {}), ...opts }, onResponse) : httpRequest(url, opts, onResponse);
      req.on('timeout', () => req.destroy(new Error(`no answer in ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(new FlashqConnectionError(`${what} on ${this.base.host}: ${e.message}`, 'CONNECT_FAILED', false, { cause: e })));
      req.end();
    });
  }
}
