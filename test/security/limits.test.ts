import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { FlashqGrpc, grpc, json } from '../grpc/client.js';
import { Api } from '../http/client.js';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { WireClient } from '../helpers/wire.js';
import { rawSocket } from '../helpers/raw-socket.js';

describe('MAX_CONNECTIONS', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ SHARDS: '1', MAX_CONNECTIONS: '3' });
  });
  after(() => server.stop());

  test('past the limit every surface refuses with a clear error; a freed slot is usable again', async () => {
    const held = [await WireClient.open(server.port), await WireClient.open(server.port), await WireClient.open(server.port)];
    for (const c of held) assert.equal((await c.call({ cmd: 'STATS' })).ok, true);

    const json4 = await WireClient.open(server.port);
    json4.write({ cmd: 'STATS' });
    const refused = await json4.next();
    assert.deepEqual([refused.ok, refused.error], [false, 'Too many connections (max 3): try again later or raise MAX_CONNECTIONS']);
    await json4.closedP;

    const mp4 = await WireClient.open(server.port, 'msgpack');
    mp4.write({ cmd: 'STATS' });
    assert.match((await mp4.next()).error, /^Too many connections \(max 3\)/);
    await mp4.closedP;

    const http = await new Api(server.httpPort).get('/stats');
    assert.equal(http.status, 503);
    assert.match(http.error!, /^Too many connections \(max 3\)/);

    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/ws`);
    const status = await new Promise<number>((res) => {
      ws.once('unexpected-response', (_req, r) => res(r.statusCode ?? 0));
      ws.once('open', () => res(101));
      ws.once('error', () => {});
    });
    assert.equal(status, 503);

    const g = new FlashqGrpc(server.grpcPort);
    await assert.rejects(g.call('push', { queue: 'lim', data: json(1) }), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(e.details, /^Too many connections \(max 3\)/);
      return true;
    });
    g.close();

    await held.pop()!.close();
    const again = await waitFor(async () => {
      const c = await WireClient.open(server.port);
      const a = await c.call({ cmd: 'STATS' });
      if (a.ok) return c;
      c.destroy();
      return null;
    }, 5000, 'a slot to free');
    await again!.close();
    for (const c of held) await c.close();
    // with the TCP connections gone, HTTP is served again
    await waitFor(async () => (await new Api(server.httpPort).get('/stats')).status === 200, 5000, 'HTTP served');
  });
});

describe('stalled and hostile clients', () => {
  let server: RunningServer;
  const IDLE = 300;
  before(async () => {
    server = await startServer({ SHARDS: '1', IDLE_TIMEOUT_MS: String(IDLE), AUTH_TOKENS: 'right-token', MAX_AUTH_FAILURES: '3' });
  });
  after(() => server.stop());

  test('a connection silent in the middle of a line or frame is told and closed; one silent between requests stays', async () => {
    const between = await WireClient.open(server.port);
    assert.equal((await between.call({ cmd: 'AUTH', token: 'right-token' })).ok, true);

    const half = await rawSocket(server.port);
    half.s.write('{"cmd":"AUTH","tok');
    const line = await rawSocket(server.port);
    line.s.write('{"cmd":"AUTH","token":"right-token"}\n{"cmd":"PUSH","queue":"idle","data":{"a":');
    // MessagePack: a length prefix that promises 100 bytes, then 10 of them
    const frame = await rawSocket(server.port);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(100);
    frame.s.write(Buffer.concat([head, Buffer.alloc(10, 0x90)]));

    const ms = await Promise.all([half.closed, line.closed, frame.closed]);
    for (const t of ms) assert.ok(t >= IDLE, `closed after ${t} ms, not before the idle timeout`);
    assert.match(half.got(), /"error":"Request incomplete: nothing received for 300 ms in the middle of a request/);
    assert.match(line.got(), /^\{"ok":true\}\n\{"ok":false,"data":null,"error":"Request incomplete/);
    assert.match(frame.got(), /Request incomplete/);
    // the quiet connection outlived three of them
    assert.equal((await between.call({ cmd: 'STATS' })).ok, true);
    await between.close();
  });

  test('HTTP: a body trickled or never sent is cut off after the idle timeout; headers after uWS\'s own 10 s', { timeout: 30_000 }, async () => {
    const headers = await rawSocket(server.httpPort);
    headers.s.write('POST /queues/q/jobs HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => headers.s.write('X-Slow: 1\r\n'), 500);
    const body = 'POST /queues/slow/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right-token\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n';
    const never = await rawSocket(server.httpPort);
    never.s.write(body);
    const dribble = await rawSocket(server.httpPort);
    dribble.s.write(body + '{"data":');
    const [a, b] = await Promise.all([never.closed, dribble.closed]);
    for (const t of [a, b]) assert.ok(t >= IDLE && t < 10_000, `closed after ${t} ms`);
    for (const r of [never, dribble]) assert.match(r.got(), /^HTTP\/1.1 400[^]*"error":"Request incomplete: body silent for 300 ms/);
    const h = await headers.closed;
    clearInterval(trickle);
    assert.ok(h < 15_000, `headers trickled for ${h} ms`);
    assert.equal(headers.got(), '', 'no request was ever served to the header trickler');
  });

  test('failed AUTHs close the connection at MAX_AUTH_FAILURES; a good AUTH before that keeps it', async () => {
    const c = await WireClient.open(server.port);
    assert.equal((await c.call({ cmd: 'AUTH', token: 'wrong-1' })).error, 'Authentication required: invalid token');
    assert.equal((await c.call({ cmd: 'AUTH', token: 'wrong-2' })).error, 'Authentication required: invalid token');
    const third = await c.call({ cmd: 'AUTH', token: 'wrong-3', reqId: 'r3' });
    assert.deepEqual([third.ok, third.error, third.reqId], [false, 'Authentication required: invalid token (3 failed attempts, connection closed)', 'r3']);
    await c.closedP;

    const d = await WireClient.open(server.port, 'msgpack');
    assert.equal((await d.call({ cmd: 'AUTH', token: 'wrong' })).ok, false);
    assert.equal((await d.call({ cmd: 'AUTH', token: 'wrong' })).ok, false);
    assert.equal((await d.call({ cmd: 'AUTH', token: 'right-token' })).ok, true);
    assert.equal((await d.call({ cmd: 'STATS' })).ok, true);
    assert.equal(d.closed, false);
    await d.close();
  });
});
