import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Certificates made for one test run with the openssl CLI (nothing is checked in). */
export interface TestPki {
  dir: string;
  /** PEM paths */
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** a client certificate signed by another CA: must be refused */
  rogueCertFile: string;
  rogueKeyFile: string;
  ca: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  rogueCert: Buffer;
  rogueKey: Buffer;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`]);
}

function signed(dir: string, ca: string, name: string, cn: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

/** A CA, a server certificate for localhost/127.0.0.1, a client certificate, and a rogue client. */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'flashq-tls-'));
  newCa(dir, 'ca');
  newCa(dir, 'rogue-ca');
  signed(dir, 'ca', 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'ca', 'client', 'worker-1', 'extendedKeyUsage=clientAuth\n');
  signed(dir, 'rogue-ca', 'rogue', 'intruder', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string) => join(dir, f);
  return {
    dir,
    caFile: p('ca.pem'),
    certFile: p('server.pem'),
    keyFile: p('server.key'),
    clientCertFile: p('client.pem'),
    clientKeyFile: p('client.key'),
    rogueCertFile: p('rogue.pem'),
    rogueKeyFile: p('rogue.key'),
    ca: readFileSync(p('ca.pem')),
    clientCert: readFileSync(p('client.pem')),
    clientKey: readFileSync(p('client.key')),
    rogueCert: readFileSync(p('rogue.pem')),
    rogueKey: readFileSync(p('rogue.key')),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Certificates of cluster nodes: each serves and presents the same one, so both usages are in it. */
export interface NodePki {
  ca: Buffer;
  /** two nodes signed by the CA, and one signed by another CA */
  nodes: Array<{ cert: Buffer; key: Buffer }>;
  rogue: { cert: Buffer; key: Buffer };
  remove(): void;
}

export function makeNodePki(): NodePki {
  const dir = mkdtempSync(join(tmpdir(), 'flashq-tls-'));
  newCa(dir, 'ca');
  newCa(dir, 'rogue-ca');
  const ext = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n';
  signed(dir, 'ca', 'node-a', 'node-a', ext);
  signed(dir, 'ca', 'node-b', 'node-b', ext);
  signed(dir, 'rogue-ca', 'rogue', 'node-r', ext);
  const pair = (name: string) => ({ cert: readFileSync(join(dir, `${name}.pem`)), key: readFileSync(join(dir, `${name}.key`)) });
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    nodes: [pair('node-a'), pair('node-b')],
    rogue: pair('rogue'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
