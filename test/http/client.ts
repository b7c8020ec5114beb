import { request as httpRequest, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { waitFor } from '../helpers/server.js';

/** A parsed envelope answer. */
export interface Answer<T = any> {
  status: number;
  ok: boolean;
  data: T;
  error: string | null;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
}

/** HTTP calls against one server, with an optional bearer token. */
export class Api {
  constructor(
    readonly port: number,
    public token: string | null = null,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `body`: an object is sent as JSON, a string or Buffer as is. */
  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.token !== null && h.authorization === undefined) h.authorization = `Bearer ${this.token}`;
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload });
    const raw = await res.text();
    let env: { ok?: boolean; data?: T; error?: string | null } = {};
    try {
      env = JSON.parse(raw) as typeof env;
    } catch {
      // non-JSON bodies (Prometheus text) are read through `raw`
    }
    return { status: res.status, ok: env.ok === true, data: env.data as T, error: env.error ?? null, headers: Object.fromEntries(res.headers), raw };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.call<T>('GET', path, undefined, headers);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.call<T>('POST', path, body, headers);
  }
  del<T = any>(path: string) {
    return this.call<T>('DELETE', path);
  }

  /** Push one job and return it (asserting success). */
  async push(queue: string, job: Record<string, unknown>): Promise<any> {
    const a = await this.post(`/queues/${queue}/jobs`, job);
    if (a.status !== 200) throw new Error(`push failed: ${a.status} ${a.raw}`);
    return a.data;
  }
}

/** A WebSocket subscriber that records every message it receives. */
export class WsSub {
  readonly events: any[] = [];
  readonly ws: WebSocket;
  closed: { code: number; reason: string } | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => this.events.push(JSON.parse(data.toString('utf8'))));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static open(port: number, path: string, headers?: Record<string, string>): Promise<WsSub> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, headers ? { headers } : undefined);
      ws.once('open', () => resolve(new WsSub(ws)));
      ws.once('unexpected-response', (_req: unknown, res: IncomingMessage) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  waitFor(pred: (e: any) => boolean, what: string, timeoutMs = 5000): Promise<any> {
    return until(() => this.events.find(pred), timeoutMs, what);
  }

  close(): void {
    this.ws.close();
  }
}

/** An SSE subscriber over a raw http request, recording frames as {event, data, comments}. */
export class SseSub {
  readonly frames: Array<{ event: string; data: any }> = [];
  readonly comments: string[] = [];
  status = 0;
  ended = false;
  private buf = '';

  private constructor(private readonly res: IncomingMessage) {
    this.status = res.statusCode ?? 0;
    res.setEncoding('utf8');
    res.on('data', (d: string) => this.feed(d));
    res.on('end', () => (this.ended = true));
    res.on('close', () => (this.ended = true));
  }

  static open(port: number, path: string, headers: Record<string, string> = {}): Promise<SseSub> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseSub(res)));
      req.on('error', reject);
      req.end();
    });
  }

  private feed(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.frames.push({ event, data: JSON.parse(data.join('\n')) });
    }
  }

  get headers(): IncomingMessage['headers'] {
    return this.res.headers;
  }

  /** The whole body when the server answered with an error instead of a stream. */
  async text(): Promise<string> {
    await waitFor(() => this.ended, 5000, 'response end');
    return this.buf;
  }

  waitFor(pred: (f: { event: string; data: any }) => boolean, what: string, timeoutMs = 5000) {
    return until(() => this.frames.find(pred), timeoutMs, what);
  }

  close(): void {
    this.res.destroy();
  }
}

/** waitFor for conditions that produce the value the test goes on with (never null once met). */
export async function until<T>(cond: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  return (await waitFor(cond, timeoutMs, what)) as NonNullable<T>;
}
