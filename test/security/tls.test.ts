import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import WebSocket from 'ws';
import { FlashqClient } from '../../src/client/index.js';
import { FlashqGrpc, grpc, json } from '../grpc/client.js';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { makePki, type TestPki } from '../helpers/tls.js';
import { WireClient } from '../helpers/wire.js';

let pki: TestPki;
before(() => {
  pki = makePki();
});
after(() => pki.remove());

/** An HTTPS request with node:https; resolves status and body, rejects on a TLS failure. */
function https(port: number, path: string, opts: RequestOptions & { body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, method: opts.body ? 'POST' : 'GET', ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function run(cmd: string, args: string[], input = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
    p.stdin?.end(input);
  });
}

function hasTool(name: string): boolean {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`]).length > 0;
  } catch {
    return false;
  }
}

describe('TLS configuration is checked at start', () => {
  const refuses = async (env: Record<string, string>, message: RegExp) => {
    await assert.rejects(startServer(env), (e: Error) => {
      assert.match(e.message, /exited with 2/);
      assert.match(e.message, message);
      return true;
    });
  };
  test('a certificate without its key, a key without its certificate, a CA alone, unreadable or mismatched files', async () => {
    await refuses({ TLS_CERT_FILE: pki.certFile }, /TLS_CERT_FILE is set but TLS_KEY_FILE is not/);
    await refuses({ TLS_KEY_FILE: pki.keyFile }, /TLS_KEY_FILE is set but TLS_CERT_FILE is not/);
    await refuses({ TLS_CA_FILE: pki.caFile }, /TLS_CA_FILE requires TLS_CERT_FILE and TLS_KEY_FILE/);
    await refuses({ TLS_CERT_FILE: pki.certFile, TLS_KEY_FILE: `${pki.dir}/missing.key` }, /TLS_KEY_FILE ".*missing.key" cannot be read/);
    await refuses({ TLS_CERT_FILE: pki.certFile, TLS_KEY_FILE: pki.clientKeyFile }, /not a usable certificate and key/);
  });
});

describe('TLS on every port (server certificate only)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ SHARDS: '1', TLS_CERT_FILE: pki.certFile, TLS_KEY_FILE: pki.keyFile });
  });
  after(() => server.stop());

  test('TCP: JSON lines and MessagePack over node:tls; a plaintext client gets nothing it can read', async () => {
    const c = await WireClient.openTls(server.port, { ca: pki.ca });
    const pushed = await c.call({ cmd: 'PUSH', queue: 'tls-tcp', data: { secret: 'over tls' } });
    assert.equal(pushed.ok, true);
    const m = await WireClient.openTls(server.port, { ca: pki.ca, servername: 'localhost' }, 'msgpack');
    const pulled = await m.call({ cmd: 'PULL', queue: 'tls-tcp', timeout: 0 });
    assert.deepEqual([pulled.ok, pulled.job.id, pulled.job.data], [true, pushed.id, { secret: 'over tls' }]);
    await c.close();
    await m.close();

    // plaintext to the TLS port: the server sees no handshake and closes without a flashQ answer
    const plain = await WireClient.open(server.port);
    plain.write({ cmd: 'STATS' });
    await plain.closedP;
    assert.equal(plain.buffered, 0);

    // a client that does not trust the certificate's CA refuses the server
    await assert.rejects(WireClient.openTls(server.port, {}), /self-signed|unable to verify|certificate/);
  });

  test('the client SDK connects with TLS (JSON and MessagePack framing)', async () => {
    for (const framing of ['json', 'msgpack'] as const) {
      const client = new FlashqClient({ port: server.port, tls: { ca: pki.ca }, framing, reconnect: false });
      await client.connect();
      const id = await client.push('tls-sdk', { framing });
      const job = await client.pull<{ framing: string }>('tls-sdk', { timeout: 0 });
      assert.equal(job?.id, id);
      assert.deepEqual(job?.data, { framing });
      await client.ack(id);
      await client.close();
    }
  });

  test('HTTP over TLS with node:https, and with curl when installed', async () => {
    const health = await https(server.httpPort, '/health', { ca: pki.ca });
    assert.equal(health.status, 200);
    const pushed = await https(server.httpPort, '/queues/tls-http/jobs', { ca: pki.ca, body: JSON.stringify({ data: { via: 'https' } }), headers: { 'content-type': 'application/json' } });
    assert.equal(pushed.status, 200, pushed.body);
    assert.deepEqual(JSON.parse(pushed.body).data.data, { via: 'https' });
    await assert.rejects(https(server.httpPort, '/health', {}), /self-signed|unable to verify|certificate/);
    if (hasTool('curl')) {
      const ok = await run('curl', ['-sS', '--cacert', pki.caFile, `https://localhost:${server.httpPort}/health`]);
      assert.equal(ok.code, 0, ok.out);
      assert.match(ok.out, /"ok":true/);
      const untrusted = await run('curl', ['-sS', `https://localhost:${server.httpPort}/health`]);
      assert.notEqual(untrusted.code, 0);
    }
  });

  test('WebSocket (wss) and SSE over TLS receive events', async () => {
    const ws = new WebSocket(`wss://localhost:${server.httpPort}/ws/tls-events`, { ca: pki.ca });
    const got: string[] = [];
    ws.on('message', (m) => got.push(String(m)));
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    let sse = '';
    const sseReq = httpsRequest({ host: '127.0.0.1', port: server.httpPort, path: '/events/tls-events', ca: pki.ca }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => (sse += d));
    });
    sseReq.on('error', () => {});
    sseReq.end();
    await waitFor(() => sse.includes(': connected'), 5000, 'the SSE stream to open');
    const pushed = await https(server.httpPort, '/queues/tls-events/jobs', { ca: pki.ca, body: '{"data":1}', headers: { 'content-type': 'application/json' } });
    const id = JSON.parse(pushed.body).data.id as number;
    await waitFor(() => got.some((m) => JSON.parse(m).job_id === id), 5000, 'the wss event');
    await waitFor(() => sse.includes(`"job_id":${id}`), 5000, 'the SSE event');
    ws.close();
    sseReq.destroy();
  });

  test('gRPC with TLS credentials; an insecure channel to the TLS port fails', async () => {
    const secure = new FlashqGrpc(server.grpcPort, null, grpc.credentials.createSsl(pki.ca));
    const r = await secure.call<{ id: number }>('push', { queue: 'tls-grpc', data: json({ g: 1 }) });
    assert.ok(r.id > 0);
    secure.close();
    const insecure = new FlashqGrpc(server.grpcPort);
    await assert.rejects(insecure.call('push', { queue: 'tls-grpc', data: json(1) }, { deadlineMs: 3000 }), (e: grpc.ServiceError) => {
      assert.ok([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED].includes(e.code), String(e.code));
      return true;
    });
    insecure.close();
  });

  test('openssl s_client sees the configured certificate', { skip: hasTool('openssl') ? false : 'no openssl' }, async () => {
    const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, '-CAfile', pki.caFile, '-verify_return_error'], 'Q\n');
    assert.match(r.out, /subject=CN ?= ?localhost/);
    assert.match(r.out, /Verify return code: 0 \(ok\)/);
  });
});

describe('TLS with client certificates (TLS_CA_FILE)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ SHARDS: '1', TLS_CERT_FILE: pki.certFile, TLS_KEY_FILE: pki.keyFile, TLS_CA_FILE: pki.caFile });
  });
  after(() => server.stop());

  const refusedTcp = async (opts: object) => {
    // TLS 1.3 reports a refused client certificate after the handshake: the first read fails or the socket closes
    try {
      const c = await WireClient.openTls(server.port, { ca: pki.ca, ...opts });
      c.write({ cmd: 'STATS' });
      await c.closedP;
      assert.equal(c.buffered, 0, 'no answer without an accepted client certificate');
    } catch (e) {
      assert.match(String(e), /certificate|alert|handshake|socket hang up|ECONNRESET/i);
    }
  };

  test('TCP: a certificate from the configured CA is accepted; none, or one from another CA, is refused', async () => {
    const ok = await WireClient.openTls(server.port, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    assert.equal((await ok.call({ cmd: 'PUSH', queue: 'mtls', data: 1 })).ok, true);
    await ok.close();
    await refusedTcp({});
    await refusedTcp({ cert: pki.rogueCert, key: pki.rogueKey });
    const sdk = new FlashqClient({ port: server.port, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }, reconnect: false });
    await sdk.connect();
    assert.ok((await sdk.push('mtls', { sdk: true })) > 0);
    await sdk.close();
  });

  test('HTTPS and gRPC require the client certificate too', async () => {
    const ok = await https(server.httpPort, '/health', { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    assert.equal(ok.status, 200);
    await assert.rejects(https(server.httpPort, '/health', { ca: pki.ca }));
    await assert.rejects(https(server.httpPort, '/health', { ca: pki.ca, cert: pki.rogueCert, key: pki.rogueKey }));

    const withCert = new FlashqGrpc(server.grpcPort, null, grpc.credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert));
    assert.ok((await withCert.call<{ id: number }>('push', { queue: 'mtls-grpc', data: json(1) })).id > 0);
    withCert.close();
    const without = new FlashqGrpc(server.grpcPort, null, grpc.credentials.createSsl(pki.ca));
    await assert.rejects(without.call('push', { queue: 'mtls-grpc', data: json(1) }, { deadlineMs: 3000 }));
    without.close();
  });
});

