import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatClusterReport, runClusterCrash } from '../../bench/cluster-crash.js';
import { ADMIN_URL, NO_PG } from '../store/pg.js';

// The short version of bench/cluster-crash.ts: three nodes, producers and workers through all of
// them, the leader and another node SIGKILLed and restarted (one at once, before its leases
// expired). The run waits for conditions with deadlines (failover, rejoin, drain).
test('three nodes killed and restarted under load: no acknowledged push lost, nothing completed twice', { skip: NO_PG, timeout: 240_000 }, async (t) => {
  const r = await runClusterCrash({ adminUrl: ADMIN_URL!, seconds: 24, kills: 3, producers: 2, workers: 4, ttlMs: 3000, log: (l) => t.diagnostic(l) });
  for (const line of formatClusterReport(r).split('\n')) t.diagnostic(line);
  assert.ok(r.pushed > 0 && r.acked > 0, 'load ran');
  assert.equal(r.kills, 3);
  assert.ok(r.leaderKills >= 1, 'the leader was killed at least once');
  assert.ok(r.forwarded > 0, 'requests were forwarded between nodes');
  assert.equal(r.lost, 0, 'pushes answered ok and not completed at the end');
  assert.equal(r.ackReverted, 0, 'acks answered ok whose job is not completed');
  assert.equal(r.completedTwice, 0, 'jobs delivered again after an ok ack, or acked ok twice');
  assert.equal(r.leftActive, 0, 'jobs left unfinished');
  assert.equal(r.storedRefused.refused, 0, 'pushes refused as not done but stored');
  assert.deepEqual(r.unexpected, [], 'answers no crash explains');
});
