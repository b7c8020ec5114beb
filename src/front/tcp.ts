import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import type { Auth } from './auth.js';
import type { Dispatcher } from './dispatch.js';
import type { RequestRouter } from './request-router.js';
import { TcpConnection } from './tcp-connection.js';

/** TCP (and Unix socket) listeners: accepts connections and tracks them for back-pressure and stop. */
export class TcpFront {
  private readonly servers: NetServer[] = [];
  readonly conns = new Set<TcpConnection>();

  constructor(
    private readonly router: RequestRouter,
    private readonly dispatcher: Dispatcher,
    private readonly auth: Auth,
  ) {
    dispatcher.onPause((paused) => {
      for (const c of this.conns) c.setShardPause(paused);
    });
  }

  listen(port: number, host: string): Promise<number> {
    return this.open((s) => s.listen(port, host)).then((s) => {
      const a = s.address();
      return typeof a === 'object' && a ? a.port : port;
    });
  }

  listenUnix(path: string): Promise<void> {
    // a stale socket file from a killed process would make listen fail with EADDRINUSE
    if (existsSync(path)) unlinkSync(path);
    return this.open((s) => s.listen(path)).then(() => undefined);
  }

  private open(start: (s: NetServer) => void): Promise<NetServer> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
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
    const c = new TcpConnection(socket, this.router, this.auth.enabled);
    c.id = this.dispatcher.allocConn(c);
    this.conns.add(c);
    if (this.dispatcher.paused) c.setShardPause(true);
    socket.on('error', () => {
      // a reset by the peer ends in 'close' below; nothing to report
    });
    socket.on('close', () => {
      c.markClosed();
      this.conns.delete(c);
      this.dispatcher.connClosed(c.id, c.touched);
    });
  }

  /** Stop accepting; wait (bounded) for answers in flight; then close every connection. */
  async close(graceMs = 3000): Promise<void> {
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
