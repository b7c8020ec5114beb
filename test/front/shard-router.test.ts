import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Dispatcher } from '../../src/front/dispatcher.js';
import { ShardRouter } from '../../src/front/shard-router.js';
import { attemptsOf, backoffOf, DEFAULT_BACKOFF_MS } from '../../src/engine/job-defaults.js';
import { PARTITIONS } from '../../src/engine/types.js';

/** id of sequence `seq` in partition `p` (design.md: ids route themselves) */
const id = (seq: number, p: number) => seq * PARTITIONS + p;

describe('rules every surface shares', () => {
  it('ACKB: ids on one shard go as they are, on several shards grouped, invalid or oversized to shard 0', () => {
    const router = new ShardRouter(new Dispatcher(2));
    // partitions 2 and 4 are shard 0's, 1 and 3 shard 1's
    assert.equal(router.ackBatchRoute([id(1, 1), id(2, 3)], 10), 1);
    assert.equal(router.ackBatchRoute([id(1, 2)], 10), 0);
    assert.deepEqual(
      router.ackBatchRoute([id(1, 1), id(1, 2), id(2, 3), id(2, 4)], 10),
      new Map([
        [1, [id(1, 1), id(2, 3)]],
        [0, [id(1, 2), id(2, 4)]],
      ]),
    );
    assert.equal(router.ackBatchRoute([id(1, 1), 'x'], 10), 0);
    assert.equal(router.ackBatchRoute([id(1, 1), 1.5], 10), 0);
    assert.equal(router.ackBatchRoute([id(1, 1), id(1, 2)], 1), 0);
    assert.equal(router.ackBatchRoute(null, 10), 0);
    assert.equal(router.ackBatchRoute([], 10), 0);
  });

  it('job defaults: max_attempts 0 means one attempt, backoff left out means the default', () => {
    assert.deepEqual([0, -1, 1, 5].map(attemptsOf), [1, 1, 1, 5]);
    assert.deepEqual([undefined, 0, -5, 250].map(backoffOf), [DEFAULT_BACKOFF_MS, 0, 0, 250]);
  });
});
