import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';

export interface Cert {
  /** the self-signed certificate (PEM), also the CA that verifies it */
  cert: Buffer;
  key: Buffer;
}

/** A throwaway self-signed certificate for `localhost` and 127.0.0.1, made with the openssl CLI. */
export function makeCert(cn = 'localhost'): Cert {
  const dir = mkdtempSync(join(tmpdir(), 'flashq-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn},IP:127.0.0.1`,
  ], { stdio: 'ignore' });
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

export interface Terminator {
  port: number;
  /** TLS sessions accepted (handshakes completed) */
  readonly accepted: number;
  close(): Promise<void>;
}

/**
 * A TLS terminator in front of a plain TCP port: each TLS session is piped byte for byte to a new
 * connection to 127.0.0.1:`backend`, as a TLS proxy in front of the server would.
 */
export function tlsTerminator(cert: Cert, backend: number): Promise<Terminator> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ cert: cert.cert, key: cert.key }, (tls: TLSSocket) => {
    accepted++;
    const plain = connect(backend, '127.0.0.1');
    sockets.add(tls).add(plain);
    tls.pipe(plain).pipe(tls);
    const end = () => {
      tls.destroy();
      plain.destroy();
    };
    tls.on('error', end).on('close', end);
    plain.on('error', end).on('close', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        get accepted() {
          return accepted;
        },
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
