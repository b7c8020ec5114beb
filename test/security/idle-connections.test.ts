import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashqGrpc, json, parse, type Raw } from '../grpc/client.js';
import { Api } from '../http/client.js';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { rawSocket } from '../helpers/raw-socket.js';

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A frame header (9 bytes) promising `length` payload bytes. */
function frameHeader(length: number, type: number, flags = 0, stream = 0): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return h;
}

/** HPACK literal header fields without indexing, new names (RFC 7541 §6.2.2); short strings only. */
function hpack(fields: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) parts.push(Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value));
  return Buffer.concat(parts);
}

describe('gRPC: connections that stop mid-frame are closed after IDLE_TIMEOUT_MS; healthy idle ones stay', () => {
  let server: RunningServer;
  const IDLE = 400;
  before(async () => {
    server = await startServer({ SHARDS: '1', IDLE_TIMEOUT_MS: String(IDLE) });
  });
  after(() => server.stop());

  test('half a preface, a preface and half a frame, half a frame on an open stream: each closed', { timeout: 10_000 }, async () => {
    const halfPreface = await rawSocket(server.grpcPort);
    halfPreface.s.write(PREFACE.subarray(0, 10));
    const halfSettings = await rawSocket(server.grpcPort);
    // SETTINGS promising 12 bytes (two settings), 3 sent
    halfSettings.s.write(Buffer.concat([PREFACE, frameHeader(12, 0x4), Buffer.alloc(3)]));
    // a complete handshake and a HEADERS frame opening stream 1, then a DATA frame promising 100 bytes, 5 sent:
    // the stream is open, so only the unanswered keep-alive ping can end this one
    const midStream = await rawSocket(server.grpcPort);
    const headers = hpack([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/flashq.QueueService/Push'],
      [':authority', 'x'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
    ]);
    midStream.s.write(
      Buffer.concat([PREFACE, frameHeader(0, 0x4), frameHeader(headers.length, 0x1, 0x4, 1), headers, frameHeader(100, 0x0, 0, 1), Buffer.alloc(5)]),
    );
    const ms = await Promise.all([halfPreface.closed, halfSettings.closed, midStream.closed]);
    // max_connection_idle or the keep-alive ping (sent after IDLE, answered within IDLE): 2 × IDLE, plus timer slack
    for (const t of ms) assert.ok(t >= IDLE * 0.9 && t < 2 * IDLE + 1500, `closed after ${t} ms (IDLE_TIMEOUT_MS ${IDLE})`);
  });

  test('a streaming worker idle for many timeouts keeps its stream; an idle unary client reconnects by itself', async () => {
    const worker = new FlashqGrpc(server.grpcPort);
    const producer = new FlashqGrpc(server.grpcPort);
    const got: Raw[] = [];
    let ended: unknown = null;
    const stream = worker.streamJobs({ queue: 'idle-stream', batchSize: 1 });
    stream.on('data', (job: Raw) => got.push(job));
    stream.on('error', (e: unknown) => (ended = e));
    stream.on('end', () => (ended ??= 'end'));
    const first = (await producer.call('push', { queue: 'idle-stream', data: json({ n: 1 }) })).id as number;
    await waitFor(() => got.length === 1, 5000, 'the first job on the stream');
    // both connections now idle for 5 × IDLE_TIMEOUT_MS: the worker has a call open, the producer none
    const quietUntil = Date.now() + 5 * IDLE;
    await waitFor(() => Date.now() >= quietUntil || ended !== null, 10 * IDLE, 'the quiet period');
    assert.equal(ended, null, 'the stream was not cut while waiting for jobs');
    const second = (await producer.call('push', { queue: 'idle-stream', data: json({ n: 2 }) })).id as number;
    await waitFor(() => got.length === 2, 5000, 'the second job on the same stream');
    assert.deepEqual(
      got.map((j) => [j.id, parse(j.data)]),
      [
        [first, { n: 1 }],
        [second, { n: 2 }],
      ],
    );
    assert.equal(ended, null);
    stream.cancel();
    worker.close();
    producer.close();
  });
});

describe('HTTP: what bounds an idle keep-alive socket (uWS, not MAX_CONNECTIONS)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ SHARDS: '1' });
  });
  after(() => server.stop());

  test('a keep-alive socket left idle after its answer is closed by uWS after about 10 s', { timeout: 30_000 }, async () => {
    const idle = await rawSocket(server.httpPort);
    idle.s.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => /\r\n\r\n/.test(idle.got()), 5000, 'the answer');
    assert.match(idle.got(), /^HTTP\/1.1 200/);
    const t = await idle.closed;
    assert.ok(t >= 8000 && t < 15_000, `idle keep-alive socket closed after ${t} ms`);
    // the server itself is fine
    assert.equal((await new Api(server.httpPort).get('/health')).status, 200);
  });
});
