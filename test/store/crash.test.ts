import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runCrash } from '../../bench/crash.js';
import { ADMIN_URL, NO_PG } from './pg.js';

test('SIGKILL at random moments loses no acknowledged push or ack and completes nothing twice', { skip: NO_PG, timeout: 120_000 }, async (t) => {
  const r = await runCrash({ adminUrl: ADMIN_URL!, seconds: 14, kills: 4, producers: 2, workers: 4, log: (l) => t.diagnostic(l) });
  t.diagnostic(formatReport(r));
  assert.ok(r.pushed > 0 && r.acked > 0, 'load ran');
  assert.equal(r.kills, 4);
  assert.equal(r.lost, 0, 'pushes answered ok and not completed at the end');
  assert.equal(r.ackReverted, 0, 'acks answered ok whose job is not completed');
  assert.equal(r.duplicated, 0, 'jobs completed (or delivered) again after an ok ack');
  assert.equal(r.leftActive, 0, 'jobs left unfinished');
});
