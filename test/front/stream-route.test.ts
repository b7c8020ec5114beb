import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/base/errors.js';
import { partitionOf } from '../../src/engine/partition.js';
import { Dispatcher } from '../../src/front/dispatcher.js';
import { MOVE_PATIENCE_MS, StreamRoute } from '../../src/front/grpc/stream-route.js';
import { ShardRouter } from '../../src/front/shard-router.js';

test('StreamRoute follows the partition to its current link and remembers every link used', () => {
  const router = new ShardRouter(new Dispatcher(2));
  const route = new StreamRoute(router, 'q');
  const p = partitionOf('q');
  assert.equal(route.current(), p % 2);
  router.setRoute(p, 2 + p); // moved to another node's link
  assert.equal(route.current(), 2 + p);
  assert.deepEqual([...route.links].sort((a, b) => a - b), [p % 2, 2 + p]);
});

test('StreamRoute retries moving-partition refusals with back-off in cluster mode only, for a bounded time', () => {
  const single = new StreamRoute(new ShardRouter(new Dispatcher(1)), 'q');
  assert.equal(single.retryAfter(ErrorCode.StorageUnavailable, 0), -1, 'outside cluster mode the stream ends');

  const router = new ShardRouter(new Dispatcher(1));
  router.clustered = true;
  const route = new StreamRoute(router, 'q');
  assert.equal(route.retryAfter(ErrorCode.NotFound, 1000), -1, 'other refusals end the stream');
  const waits = [0, 1, 2, 3, 4, 5, 6].map((k) => route.retryAfter(k % 2 ? ErrorCode.NotServed : ErrorCode.StorageUnavailable, 1000 + k));
  assert.deepEqual(waits, [50, 100, 200, 400, 800, 1000, 1000]);
  assert.equal(route.retryAfter(ErrorCode.NotServed, 1000 + MOVE_PATIENCE_MS + 1), -1, 'a partition unserved for too long ends the stream');
  route.served();
  assert.equal(route.retryAfter(ErrorCode.NotServed, 5_000_000), 50, 'served again: patience and back-off start over');
});
