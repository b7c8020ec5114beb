import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { floodPushb } from '../helpers/flood.js';
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
  const flood = await floodPushb(server.port, 'busy-tcp', batches);

  let busy = null as grpc.ServiceError | null; // set by the callers below
  let served = 0;
  const deadline = Date.now() + 60_000;
  // several calls in flight, so some arrive while the ring is full whatever the timing
  const caller = async () => {
    while (busy === null && flood.answered < batches && Date.now() < deadline) {
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

  await waitFor(() => flood.answered === batches, 90_000, 'every TCP batch answered');
  flood.sock.end();
  assert.equal(flood.okJobs, batches * 1000);
  const after = await c.call('push', { queue: 'busy-grpc', data: json('after') });
  assert.ok(after.id > 0);
});
