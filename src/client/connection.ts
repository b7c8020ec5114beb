/**
 * One TCP (or Unix socket) connection to a flashQ server: its socket's life. Requests are pipelined
 * by the Pipeline; this class opens the socket, authenticates, notices drops and reconnects with
 * exponential back-off, and closes cleanly.
 *
 * When the socket drops, the requests it carried fail (their fate is unknown), later ones wait for
 * the reconnect, and AUTH is sent again first when a token is known.
 */
import { EventEmitter } from 'node:events';
import { createConnection, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { FlashqClientError, FlashqConnectionError } from './errors.js';
import { createDecoder, type Decoder, type Framing } from './framing.js';
import { Pipeline } from './pipeline.js';
import type { Answer, Command } from './types.js';

export interface ConnectionOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 6789 */
  port?: number;
  /** a Unix socket path; when set, host and port are ignored */
  path?: string;
  /**
   * Several nodes (of a cluster, or replicas behind no balancer): the connection uses one at a
   * time, and moves to the next when a connect fails or the connection drops. Replaces host/port.
   */
  nodes?: { host: string; port: number }[];
  /**
   * TLS: `true` verifies the server against the system's CAs; an object passes node:tls options
   * (`ca`, `cert`, `key`, `rejectUnauthorized`, `servername`, …). Default: plain TCP.
   */
  tls?: boolean | TlsConnectionOptions;
  /** default 'json' */
  framing?: Framing;
  /** tag each request with a `reqId` and match answers by it instead of by order; default false */
  reqIds?: boolean;
  /** requests written and not yet answered; more wait locally; default 10,000 */
  maxInFlight?: number;
  /** default per-request timeout in ms, counted from the call; 0 (default) waits forever */
  timeoutMs?: number;
  /** sent as AUTH on every (re)connect */
  token?: string;
  /** reconnect after the socket drops; default true */
  reconnect?: boolean;
  /** first reconnect delay, doubled per failed attempt up to reconnectMaxMs, with jitter; default 100 */
  reconnectInitialMs?: number;
  /** default 5000 */
  reconnectMaxMs?: number;
  /** consecutive failed attempts before waiting requests are rejected; default Infinity */
  maxReconnectAttempts?: number;
  /** default 10,000 */
  connectTimeoutMs?: number;
  /** how long close() lets issued requests finish before ending the socket; default 5000 */
  closeTimeoutMs?: number;
  /** when a tick's frames are written: after the current microtasks (default) or on setImmediate */
  flush?: 'microtask' | 'immediate';
}

export interface RequestOptions {
  /** overrides the connection's timeoutMs for this request; 0 = none */
  timeoutMs?: number;
  /** the request may legitimately wait on the server (a PULL): close() does not wait for it */
  blocking?: boolean;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

type Settings = Required<Omit<ConnectionOptions, 'path' | 'token' | 'tls'>> & { path?: string; tls: TlsConnectionOptions | null };
type Node = { host: string; port: number };

const noop = () => {};

/**
 * Events: 'connect' (first open), 'reconnect', 'reconnecting' ({attempt, delayMs}),
 * 'disconnect' (cause), 'error' (only when listened to), 'close'.
 */
export class Connection extends EventEmitter {
  private readonly opts: Settings;
  private token: string | undefined;
  private socket: Socket | null = null;
  private readonly decoder: Decoder;
  private readonly pipe: Pipeline;
  private _state: ConnectionState = 'idle';
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private closedPromise: Promise<void> | null = null;
  /** the node in use (index into opts.nodes) and how many failed in a row on a first connect */
  private node = 0;
  private nodesTried = 0;

  constructor(options: ConnectionOptions = {}) {
    super();
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 6789,
      path: options.path,
      nodes: options.nodes && options.nodes.length > 0 ? options.nodes.map((n) => ({ host: n.host, port: n.port })) : [{ host: options.host ?? '127.0.0.1', port: options.port ?? 6789 }],
      tls: options.tls === true ? {} : options.tls || null,
      framing: options.framing ?? 'json',
      reqIds: options.reqIds ?? false,
      maxInFlight: Math.max(1, options.maxInFlight ?? 10_000),
      timeoutMs: options.timeoutMs ?? 0,
      reconnect: options.reconnect ?? true,
      reconnectInitialMs: options.reconnectInitialMs ?? 100,
      reconnectMaxMs: options.reconnectMaxMs ?? 5000,
      maxReconnectAttempts: options.maxReconnectAttempts ?? Infinity,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 5000,
      flush: options.flush ?? 'microtask',
    };
    this.token = options.token;
    this.pipe = new Pipeline(this.opts, (a) => this.emitError(new Error(`unmatched answer from server: ${JSON.stringify(a).slice(0, 200)}`)));
    this.decoder = createDecoder(this.opts.framing, (m) => this.pipe.onAnswer(m as Answer));
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Requests written and not yet answered. */
  get pending(): number {
    return this.pipe.pending;
  }

  /** Requests waiting to be written. */
  get queued(): number {
    return this.pipe.queued;
  }

  /** The token sent as AUTH after every reconnect (FlashqClient.auth sets it once accepted). */
  setToken(token: string | undefined): void {
    this.token = token;
  }

  /** Open the socket (and authenticate when a token is set). Rejects if the first attempt fails. */
  connect(): Promise<void> {
    if (this._state === 'open') return Promise.resolve();
    if (this._state === 'closing' || this._state === 'closed') {
      return Promise.reject(new FlashqConnectionError('connection is closed', 'CLOSED', false));
    }
    const p = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this._state === 'idle') this.openSocket();
    return p;
  }

  /**
   * Send one command; resolves with the server's answer as received (`ok:false` included: the
   * caller decides). Rejects on timeout, connection loss or close.
   */
  request(cmd: Command, options?: RequestOptions): Promise<Answer> {
    if (this._state === 'closing' || this._state === 'closed') {
      return Promise.reject(new FlashqConnectionError('connection is closed', 'CLOSED', false));
    }
    const answer = this.pipe.request(cmd, options?.timeoutMs ?? this.opts.timeoutMs, options?.blocking ?? false);
    if (this._state === 'idle') this.connect().catch(noop);
    return answer;
  }

  /**
   * No new requests; those already issued get up to closeTimeoutMs to be answered (blocking pulls
   * excepted), then the socket ends and whatever is left rejects with CLOSED.
   */
  close(): Promise<void> {
    this.closedPromise ??= (async () => {
      const wasOpen = this._state === 'open';
      this._state = 'closing';
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      if (wasOpen) {
        await this.pipe.waitDrained(this.opts.closeTimeoutMs);
        this.pipe.flushNow();
      }
      this.pipe.rejectWaiting(new FlashqConnectionError('connection closed before the request was sent', 'CLOSED', false));
      await this.endSocket();
      this.pipe.detach(new FlashqConnectionError('connection closed before the answer arrived', 'CLOSED', true));
      this.pipe.rejectWaiting(new FlashqConnectionError('connection closed before the request was sent', 'CLOSED', false));
      this.failConnectWaiters(new FlashqConnectionError('connection closed', 'CLOSED', false));
      this._state = 'closed';
      this.emit('close');
    })();
    return this.closedPromise;
  }

  // ---- socket life ----

  private openSocket(): void {
    if (this._state !== 'reconnecting') this._state = 'connecting';
    const o = this.opts;
    const socket = this.createSocket();
    this.socket = socket;
    if (o.path === undefined) socket.setNoDelay(true);
    // the socket's decoder keeps multi-byte characters split across chunks whole
    if (o.framing === 'json') socket.setEncoding('utf8');
    let lastError: Error | undefined;
    const connectTimer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
    // a TLS socket is usable once its handshake is done, not at the TCP connect
    socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      this.onOpen(socket);
    });
    socket.on('data', (chunk: string | Buffer) => {
      try {
        this.decoder.push(chunk);
      } catch (err) {
        // an answer we cannot parse: the stream can no longer be matched, so start over
        socket.destroy(new Error(`bad answer from server: ${(err as Error).message}`));
      }
    });
    socket.on('error', (err) => (lastError = err));
    socket.once('close', () => {
      clearTimeout(connectTimer);
      this.onSocketClosed(socket, lastError);
    });
  }

  private createSocket(): Socket {
    const o = this.opts;
    const { host, port } = this.currentNode();
    if (o.tls) {
      const where = o.path !== undefined ? { path: o.path } : { host, port, servername: o.tls.servername ?? sniName(host) };
      return tlsConnect({ ...o.tls, ...where });
    }
    return o.path !== undefined ? createConnection({ path: o.path }) : createConnection({ host, port });
  }

  private currentNode(): Node {
    return this.opts.nodes[this.node]!;
  }

  private onOpen(socket: Socket): void {
    if (this._state === 'closing' || this._state === 'closed') return;
    const first = this._state === 'connecting';
    this._state = 'open';
    this.reconnectAttempt = 0;
    this.nodesTried = 0;
    const auth = this.pipe.attach(socket, this.token !== undefined ? { cmd: 'AUTH', token: this.token } : undefined);
    if (auth) auth.then((a) => this.onAuthAnswer(a), (e: Error) => this.failConnectWaiters(e));
    else this.resolveConnectWaiters();
    this.emit(first ? 'connect' : 'reconnect');
  }

  private onAuthAnswer(a: Answer): void {
    if (a.ok) {
      this.resolveConnectWaiters();
      return;
    }
    const err = new FlashqClientError(a.error ?? 'Authentication failed', 'AUTH');
    if (this.connectWaiters.length > 0) {
      this.failConnectWaiters(err);
      void this.close();
    } else {
      this.emitError(err);
    }
  }

  private onSocketClosed(socket: Socket, cause: Error | undefined): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.decoder.reset();
    const closing = this._state === 'closing' || this._state === 'closed';
    this.pipe.detach(
      closing
        ? new FlashqConnectionError('connection closed before the answer arrived', 'CLOSED', true, { cause })
        : new FlashqConnectionError('connection lost before the answer arrived; the request may or may not have been applied', 'CONNECTION_LOST', true, { cause }),
    );
    if (closing) return;
    this.emit('disconnect', cause);
    const neverOpened = this._state === 'connecting';
    const nodes = this.opts.nodes.length;
    if (nodes > 1) this.node = (this.node + 1) % nodes;
    // a first connect tries every node once before it gives up
    if (neverOpened && this.nodesTried < nodes - 1) {
      this.nodesTried++;
      this.openSocket();
      return;
    }
    if (neverOpened || !this.opts.reconnect || this.reconnectAttempt >= this.opts.maxReconnectAttempts) {
      const err = new FlashqConnectionError(`cannot connect to ${this.address()}${cause ? `: ${cause.message}` : ''}`, 'CONNECT_FAILED', false, { cause });
      this.pipe.rejectWaiting(err);
      this.failConnectWaiters(err);
      this._state = 'idle';
      if (!neverOpened) this.emitError(err);
      return;
    }
    this._state = 'reconnecting';
    const base = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectInitialMs * 2 ** Math.min(this.reconnectAttempt, 20));
    // jitter spreads the reconnects of the many clients one server restart drops at once
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.reconnectAttempt++;
    this.emit('reconnecting', { attempt: this.reconnectAttempt, delayMs: delay });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this._state === 'reconnecting') this.openSocket();
    }, delay);
  }

  private endSocket(): Promise<void> {
    const s = this.socket;
    if (!s) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // the server closes its side on our FIN; don't hang on one that doesn't
      const force = setTimeout(() => s.destroy(), 1000);
      s.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      s.end();
    });
  }

  private resolveConnectWaiters(): void {
    const ws = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of ws) w.resolve();
  }

  private failConnectWaiters(err: Error): void {
    const ws = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of ws) w.reject(err);
  }

  private emitError(err: Error): void {
    // an unheard 'error' event would throw; the failure has already reached the callers
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private address(): string {
    return this.opts.path ?? this.opts.nodes.map((n) => `${n.host}:${n.port}`).join(', ');
  }
}

/** SNI takes host names only: an IP address is sent as no name at all. */
function sniName(host: string): string | undefined {
  return isIP(host) === 0 ? host : undefined;
}
