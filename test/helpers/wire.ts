import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { pack, unpack } from 'msgpackr';

/**
 * A bare TCP peer for wire tests: writes raw bytes or command objects (JSON lines or MessagePack
 * frames) and reads answers strictly in arrival order, so tests see exactly what a client sees.
 */
export class WireClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly answers: unknown[] = [];
  private readonly waiting: Array<(v: unknown) => void> = [];
  closed = false;
  readonly closedP: Promise<void>;

  private constructor(
    readonly socket: Socket,
    readonly framing: 'json' | 'msgpack',
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    this.closedP = new Promise((res) => socket.on('close', () => {
      this.closed = true;
      res();
    }));
    socket.on('error', () => {});
  }

  static open(port: number | string, framing: 'json' | 'msgpack' = 'json'): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const s = typeof port === 'string' ? connect(port) : connect(port, '127.0.0.1');
      s.setNoDelay(true);
      s.once('connect', () => resolve(new WireClient(s, framing)));
      s.once('error', reject);
    });
  }

  /** The same over TLS (to 127.0.0.1); rejects when the handshake fails. */
  static openTls(port: number, tls: TlsOptions, framing: 'json' | 'msgpack' = 'json'): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ...tls });
      s.setNoDelay(true);
      s.once('secureConnect', () => resolve(new WireClient(s, framing)));
      s.once('error', reject);
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      let msg: unknown;
      if (this.framing === 'json') {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) return;
        msg = JSON.parse(this.buf.toString('utf8', 0, nl));
        this.buf = this.buf.subarray(nl + 1);
      } else {
        if (this.buf.length < 4) return;
        const len = this.buf.readUInt32BE(0);
        if (this.buf.length < 4 + len) return;
        msg = unpack(this.buf.subarray(4, 4 + len));
        this.buf = this.buf.subarray(4 + len);
      }
      const w = this.waiting.shift();
      if (w) w(msg);
      else this.answers.push(msg);
    }
  }

  write(obj: object): void {
    if (this.framing === 'json') {
      this.socket.write(JSON.stringify(obj) + '\n');
    } else {
      const body = pack(obj);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      this.socket.write(Buffer.concat([head, body]));
    }
  }

  raw(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** The next answer, or a rejection after `timeoutMs`. */
  next<T = Record<string, any>>(timeoutMs = 5000): Promise<T> {
    const ready = this.answers.shift();
    if (ready !== undefined) return Promise.resolve(ready as T);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiting.indexOf(done);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (v: unknown) => {
        clearTimeout(t);
        resolve(v as T);
      };
      this.waiting.push(done);
    });
  }

  /** Whether an answer is already buffered (used to assert that nothing has been answered yet). */
  get buffered(): number {
    return this.answers.length;
  }

  async call<T = Record<string, any>>(obj: object, timeoutMs?: number): Promise<T> {
    this.write(obj);
    return this.next<T>(timeoutMs);
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closedP;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
