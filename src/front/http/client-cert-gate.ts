import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { TlsConfig } from '../../config.js';
import { log } from '../../log.js';

/**
 * uWS checks a client certificate that is presented but lets a client present none. With
 * TLS_CA_FILE the HTTP port is therefore served by node:tls, which requires a certificate signed by
 * the CA, and each verified connection is piped to the uWS app, listening on a Unix socket in a
 * private directory. Only this mode pays for the extra hop; plain TLS is uWS's own.
 */
export class ClientCertGate {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: TlsServer,
    private readonly dir: string,
  ) {}

  /** A private path for the uWS app to listen on. */
  static socketDir(): { dir: string; path: string } {
    const dir = mkdtempSync(join(tmpdir(), 'flashq-https-'));
    return { dir, path: join(dir, 'http.sock') };
  }

  static start(host: string, port: number, tls: TlsConfig, target: { dir: string; path: string }, handshakeMs: number): Promise<ClientCertGate> {
    let gate: ClientCertGate | null = null;
    const server = createServer(
      { cert: tls.cert, key: tls.key, ca: tls.ca!, requestCert: true, rejectUnauthorized: true, handshakeTimeout: handshakeMs },
      (client: TLSSocket) => gate!.pipe(client, target.path),
    );
    server.on('tlsClientError', (e: Error) => log.debug('https client refused', { error: e.message }));
    gate = new ClientCertGate(server, target.dir);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(gate!);
      });
    });
  }

  private pipe(client: TLSSocket, path: string): void {
    const inner = connect({ path });
    for (const s of [client, inner]) {
      this.sockets.add(s);
      s.on('error', () => s.destroy());
      s.once('close', () => this.sockets.delete(s));
    }
    client.on('close', () => inner.destroy());
    inner.on('close', () => client.destroy());
    client.pipe(inner);
    inner.pipe(client);
  }

  /** Stop accepting; connections already piped keep going until close(). */
  stopAccepting(): Promise<void> {
    return new Promise<void>((r) => this.server.close(() => r()));
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
