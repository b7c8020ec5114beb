import type { AddressInfo, Server, Socket } from 'node:net';
import { log } from '../../log.js';
import { DEFAULT_MAX_RECORD } from './codec.js';
import { LinkSession } from './session.js';
import { listenLink } from './transport.js';
import type { LinkTls, LocalNode } from './types.js';

export interface LinkServerOptions {
  nodeId: string;
  secret: string | null;
  tls: LinkTls | null;
  local: LocalNode;
  /** largest record body either way; default 64 MiB */
  maxRecord?: number;
  /** answer bytes queued to an origin past which its requests are not read; default 4 MiB */
  highWater?: number;
  /** TLS + handshake must finish within this; default 10 s */
  handshakeTimeoutMs?: number;
}

/** The owner side of the internal link: listens on CLUSTER_PORT, one LinkSession per origin node. */
export class LinkServer {
  private server: Server | null = null;
  private readonly sessions = new Set<LinkSession>();
  private localPaused = false;
  private readonly stopPause: (() => void) | null;

  constructor(private readonly opts: LinkServerOptions) {
    this.stopPause =
      opts.local.onPause?.((paused) => {
        this.localPaused = paused;
        for (const s of this.sessions) s.setLocalPaused(paused);
      }) ?? null;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** origin connections mapped to local ones, over every session */
  get originConnections(): number {
    let n = 0;
    for (const s of this.sessions) n += s.connections;
    return n;
  }

  /** Listen; resolves with the port (useful with port 0). */
  listen(port: number, host: string): Promise<number> {
    const handshakeTimeoutMs = this.opts.handshakeTimeoutMs ?? 10_000;
    const server = listenLink(
      this.opts.tls,
      handshakeTimeoutMs,
      (socket) => this.accept(socket, handshakeTimeoutMs),
      (e, peer) => log.warn('cluster link refused', { peer, reason: `TLS: ${e.message}` }),
    );
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  private accept(socket: Socket, handshakeTimeoutMs: number): void {
    const session = new LinkSession(socket, {
      nodeId: this.opts.nodeId,
      secret: this.opts.secret,
      local: this.opts.local,
      maxRecord: this.opts.maxRecord ?? DEFAULT_MAX_RECORD,
      highWater: this.opts.highWater ?? 4 * 1024 * 1024,
      handshakeTimeoutMs,
    });
    this.sessions.add(session);
    session.onClose = () => this.sessions.delete(session);
    if (this.localPaused) session.setLocalPaused(true);
  }

  /** Stop listening and end every session (their connections close locally). */
  close(): Promise<void> {
    this.stopPause?.();
    for (const s of this.sessions) s.destroy();
    const server = this.server;
    this.server = null;
    if (server === null) return Promise.resolve();
    return new Promise((r) => server.close(() => r()));
  }
}
