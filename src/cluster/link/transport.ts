import { connect as netConnect, createServer as createNetServer, isIP, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { LinkTls } from './types.js';

/**
 * Sockets of the link, plain or TLS. With TLS each node serves its certificate and presents the
 * same one when it connects; with a CA configured both directions are verified against it
 * (mutual TLS), otherwise the origin verifies the owner against the system's roots.
 */

export function listenLink(tls: LinkTls | null, handshakeTimeoutMs: number, onSocket: (s: Socket) => void, onTlsError: (e: Error, peer: string) => void): Server {
  if (tls === null) return createNetServer({ noDelay: true }, onSocket);
  const server = createTlsServer(
    {
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
      handshakeTimeout: handshakeTimeoutMs,
    },
    (s) => {
      s.setNoDelay(true);
      onSocket(s);
    },
  );
  // a failed handshake may have torn the socket down already: keep the address from the accept
  const addresses = new WeakMap<Socket, string>();
  server.on('connection', (raw: Socket) => addresses.set(raw, `${raw.remoteAddress}:${raw.remotePort}`));
  server.on('tlsClientError', (e: Error, s: Socket) => {
    const raw = (s as unknown as { _parent?: Socket })._parent;
    onTlsError(e, (raw && addresses.get(raw)) ?? `${s.remoteAddress}:${s.remotePort}`);
  });
  return server;
}

/** A connecting socket; 'connect' (plain) or 'secureConnect' (TLS) is `ready`'s cue. */
export function dialLink(tls: LinkTls | null, host: string, port: number): { socket: Socket; readyEvent: 'connect' | 'secureConnect' } {
  if (tls === null) {
    const socket = netConnect({ host, port, noDelay: true });
    return { socket, readyEvent: 'connect' };
  }
  const socket = tlsConnect({
    host,
    port,
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca ? { ca: tls.ca } : {}),
    // SNI takes names only; an IP address is checked against the certificate's IP entries
    ...(isIP(host) === 0 ? { servername: host } : {}),
  });
  socket.setNoDelay(true);
  return { socket, readyEvent: 'secureConnect' };
}
