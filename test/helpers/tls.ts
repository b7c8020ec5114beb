import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
