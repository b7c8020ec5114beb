import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { FlashqGrpc, grpc, json } from './client.js';

let server: RunningServer;
let c: FlashqGrpc;

before(async () => {
  server = await startServer({ SHARDS: '1', HTTP_PORT: String(await freePort()) });
  c = new FlashqGrpc(server.grpcPort);
});

after(async () => {
  c.close();
  await server.stop();
});

/**
 * A TCP producer writes ~66 MB of PUSHB lines of small jobs at once. The front forwards bytes about
 * ten times faster than the shard turns small jobs into queued ones, so the shard's 16 MiB ring
 * fills and TCP reading pauses; gRPC calls that would add to the ring are then turned away
 * (UNAVAILABLE, like HTTP's 503) instead of queueing on the front without bound. Every TCP push is
 * still answered, and calls are served again once the ring drained.
 */
test('while a shard ring is full, gRPC calls are refused as busy; afterwards they are served', { timeout: 120_000 }, async () => {
  const batches = 600;
  const jobs = Array.from({ length: 1000 }, (_, i) => ({ data: { i, pad: 'x'.repeat(80) } }));
  const line = Buffer.from(JSON.stringify({ cmd: 'PUSHB', queue: 'busy-tcp', jobs }) + '\n');
  const sock = net.connect(server.port, '127.0.0.1');
  await new Promise((res) => sock.once('connect', res));
  let answered = 0;
  let okJobs = 0;
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const a = JSON.parse(buf.slice(0, nl)) as { ok: boolean; ids?: number[] };
      buf = buf.slice(nl + 1);
      answered++;
      if (a.ok) okJobs += a.ids!.length;
    }
  });
  for (let i = 0; i < batches; i++) sock.write(line);

  let busy = null as grpc.ServiceError | null; // set by the callers below
  let served = 0;
  const deadline = Date.now() + 60_000;
  // several calls in flight, so some arrive while the ring is full whatever the timing
  const caller = async () => {
    while (busy === null && answered < batches && Date.now() < deadline) {
      try {
        await c.call('push', { queue: 'busy-grpc', data: json({ n: served }) });
        served++;
      } catch (e) {
        busy ??= e as grpc.ServiceError;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, caller));
  assert.ok(busy !== null, `no call was refused while ${batches} batches went through (${served} served)`);
  assert.equal(busy.code, grpc.status.UNAVAILABLE);
  assert.match(busy.details, /^Server busy/);

  await waitFor(() => answered === batches, 90_000, 'every TCP batch answered');
  sock.end();
  assert.equal(okJobs, batches * 1000);
  const after = await c.call('push', { queue: 'busy-grpc', data: json('after') });
  assert.ok(after.id > 0);
});
