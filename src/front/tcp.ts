import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { existsSync, unlinkSync } from 'node:fs';
import type { TlsConfig } from '../config.js';
import { log } from '../log.js';
import { errors } from '../base/errors.js';
import type { AnswerEncoder } from '../protocol/encode.js';
import { Format } from '../protocol/result.js';
import type { Auth } from './auth.js';
import type { Dispatcher } from './dispatcher.js';
import type { ConnectionLimit } from './limits.js';
import type { TcpRouter } from './tcp-router.js';
import { TcpConnection, isJsonStart } from './tcp-connection.js';

export interface TcpLimits {
  limit: ConnectionLimit;
  /** ms a connection may stay silent with part of a request (line or frame) received */
  idleTimeoutMs: number;
  maxAuthFailures: number;
}

/** How long a refused connection may take to send its first byte (its framing) before it is told in JSON. */
const REFUSE_WAIT_MS = 1000;

/**
 * TCP (TLS when configured) and Unix socket listeners: accepts connections within MAX_CONNECTIONS,
 * closes those that stop in the middle of a request, tracks them for back-pressure and stop.
 */
export class TcpFront {
  private readonly servers: NetServer[] = [];
  readonly conns = new Set<TcpConnection>();
  private readonly sweeper: NodeJS.Timeout;
  /** sweeps per idle timeout: a stalled connection is closed within 1¼ timeouts */
  private static readonly SWEEPS = 4;

  constructor(
    private readonly tcpRouter: TcpRouter,
    private readonly dispatcher: Dispatcher,
    private readonly auth: Auth,
    private readonly limits: TcpLimits,
    private readonly tls: TlsConfig | null = null,
  ) {
    dispatcher.onPause((paused) => {
      for (const c of this.conns) c.setShardPause(paused);
    });
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.floor(limits.idleTimeoutMs / TcpFront.SWEEPS)));
    this.sweeper.unref();
  }

  listen(port: number, host: string): Promise<number> {
    return this.open((s) => s.listen(port, host), this.tls).then((s) => {
      const a = s.address();
      return typeof a === 'object' && a ? a.port : port;
    });
  }

  /** The Unix socket stays plaintext: it is reached only through the file system's permissions. */
  listenUnix(path: string): Promise<void> {
    // a stale socket file from a killed process would make listen fail with EADDRINUSE
    if (existsSync(path)) unlinkSync(path);
    return this.open((s) => s.listen(path), null).then(() => undefined);
  }

  private open(start: (s: NetServer) => void, tls: TlsConfig | null): Promise<NetServer> {
    const server: NetServer = tls
      ? createTlsServer(
          {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
            // a handshake is a request like any other: it may not stall longer
            handshakeTimeout: this.limits.idleTimeoutMs,
          },
          (socket) => this.accept(socket),
        )
      : createServer({ noDelay: true }, (socket) => this.accept(socket));
    if (tls) {
      server.on('tlsClientError', (e: Error) => log.debug('tls handshake failed', { error: e.message }));
    }
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve(server);
      });
      start(server);
    });
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {
      // a reset by the peer ends in 'close' below; nothing to report
    });
    if (!this.limits.limit.tryAcquire()) {
      refuse(socket, this.limits.limit.max, this.tcpRouter.encoder);
      return;
    }
    const c = new TcpConnection(socket, this.tcpRouter, this.auth.enabled, this.limits.maxAuthFailures);
    c.id = this.dispatcher.allocConn(c);
    this.conns.add(c);
    if (this.dispatcher.paused) c.setShardPause(true);
    socket.on('close', () => {
      this.limits.limit.release();
      c.markClosed();
      this.conns.delete(c);
      this.dispatcher.connClosed(c.id, c.touched);
    });
  }

  /** Close connections that received part of a request and then nothing for the idle timeout. */
  private sweep(): void {
    for (const c of this.conns) {
      if (c.stalledSweeps(TcpFront.SWEEPS + 1)) c.closeStalled(this.limits.idleTimeoutMs);
    }
  }

  /** Stop accepting; wait (bounded) for answers in flight; then close every connection. */
  async close(graceMs = 3000): Promise<void> {
    clearInterval(this.sweeper);
    // close() only calls back once every connection has ended, which happens further down
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...this.conns].some((c) => c.pending > 0)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of this.conns) c.socket.end();
    const hard = Date.now() + 1000;
    while (this.conns.size > 0 && Date.now() < hard) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.conns) c.socket.destroy();
    await closed;
  }
}

/**
 * A connection over MAX_CONNECTIONS: answered with the error in its own framing (known from its
 * first byte, or JSON when it sends nothing at once) and closed.
 */
function refuse(socket: Socket, max: number, encoder: AnswerEncoder): void {
  const err = errors.tooManyConnections(max);
  let done = false;
  const answer = (format: Format) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.pause();
    socket.end(encoder.error(format, err, null));
    // a client that does not read its answer does not keep the socket
    setTimeout(() => socket.destroy(), REFUSE_WAIT_MS).unref();
  };
  const timer = setTimeout(() => answer(Format.TcpJson), REFUSE_WAIT_MS);
  timer.unref();
  socket.once('data', (chunk: Buffer) => answer(isJsonStart(chunk[0]!) ? Format.TcpJson : Format.TcpMsgpack));
  log.debug('connection refused: MAX_CONNECTIONS reached', { max });
}
