import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SHARD_MODES, startServer, type RunningServer } from '../helpers/server.js';
import { WireClient } from '../helpers/wire.js';

const JOB_KEYS = [
  'id', 'queue', 'data', 'priority', 'created_at', 'run_at', 'started_at', 'attempts', 'max_attempts', 'backoff',
  'ttl', 'timeout', 'unique_key', 'depends_on', 'progress', 'progress_msg', 'tags', 'lifo',
];

for (const shards of SHARD_MODES) for (const framing of ['json', 'msgpack'] as const) {
  describe(`every TCP command answers in compat.md's shape (${framing}, SHARDS=${shards})`, () => {
    let server: RunningServer;
    let c: WireClient;
    before(async () => {
      server = await startServer({ SHARDS: shards });
      c = await WireClient.open(server.port, framing);
    });
    after(async () => {
      await c.close();
      assert.equal(await server.stop(), 0);
    });

    it('PUSH, PUSHB, PULL, PULLB, ACK, ACKB, FAIL with the documented keys', async () => {
      const push = await c.call({ cmd: 'PUSH', queue: 'emails', data: { email: 'a@x' }, priority: 10, tags: ['t'] });
      assert.deepEqual(Object.keys(push), ['ok', 'id']);
      assert.equal(push.ok, true);
      const pushb = await c.call({ cmd: 'PUSHB', queue: 'emails', jobs: [{ data: { n: 1 } }, { data: { n: 2 }, priority: 5 }] });
      assert.deepEqual(Object.keys(pushb), ['ok', 'ids']);
      assert.equal(pushb.ids.length, 2);
      const pull = await c.call({ cmd: 'PULL', queue: 'emails' });
      assert.deepEqual(Object.keys(pull), ['ok', 'job']);
      assert.deepEqual(Object.keys(pull.job), JOB_KEYS);
      assert.equal(pull.job.id, push.id, 'priority 10 first');
      assert.deepEqual(pull.job.data, { email: 'a@x' });
      assert.equal(pull.job.attempts, 1);
      assert.ok(pull.job.started_at > 0);
      assert.deepEqual(pull.job.tags, ['t']);
      assert.equal(pull.job.ttl, null);
      const pullb = await c.call({ cmd: 'PULLB', queue: 'emails', count: 10 });
      assert.deepEqual(Object.keys(pullb), ['ok', 'jobs']);
      assert.deepEqual(pullb.jobs.map((j: { id: number }) => j.id), [pushb.ids[1], pushb.ids[0]]);
      assert.deepEqual(await c.call({ cmd: 'ACK', id: push.id, result: { sent: true } }), { ok: true });
      const ackb = await c.call({ cmd: 'ACKB', ids: [pushb.ids[0], 999_999_999] });
      assert.deepEqual(ackb, { ok: true, ids: [1] });
      assert.deepEqual(await c.call({ cmd: 'FAIL', id: pushb.ids[1], error: 'boom' }), { ok: true });
      const res = await c.call({ cmd: 'GETRESULT', id: push.id });
      assert.deepEqual(res, { ok: true, id: push.id, result: { sent: true } });
      const st = await c.call({ cmd: 'GETSTATE', id: pushb.ids[1] });
      assert.deepEqual(st, { ok: true, id: pushb.ids[1], state: 'failed' });
      const unknown = await c.call({ cmd: 'GETSTATE', id: 424242 });
      assert.deepEqual(unknown, { ok: true, id: 424242, state: 'unknown' });
    });

    it('GETJOB, PROGRESS, GETPROGRESS, CANCEL', async () => {
      const { id } = await c.call({ cmd: 'PUSH', queue: 'work', data: 1 });
      const gj = await c.call({ cmd: 'GETJOB', id });
      assert.deepEqual(Object.keys(gj), ['ok', 'job', 'state']);
      assert.equal(gj.state, 'waiting');
      assert.deepEqual(Object.keys(gj.job), JOB_KEYS);
      const notActive = await c.call({ cmd: 'PROGRESS', id, progress: 10 });
      assert.deepEqual(notActive, { ok: false, data: null, error: `Job ${id} not found in processing` });
      await c.call({ cmd: 'PULL', queue: 'work' });
      assert.deepEqual(await c.call({ cmd: 'PROGRESS', id, progress: 175, message: 'step 3/4' }), { ok: true });
      const gp = await c.call({ cmd: 'GETPROGRESS', id });
      assert.deepEqual(gp, { ok: true, progress: { id, progress: 100, message: 'step 3/4' } });
      const cancelActive = await c.call({ cmd: 'CANCEL', id });
      assert.equal(cancelActive.error, `Job ${id} is active and cannot be cancelled`);
      const { id: id2 } = await c.call({ cmd: 'PUSH', queue: 'work', data: 2, delay: 60_000 });
      assert.deepEqual(await c.call({ cmd: 'CANCEL', id: id2 }), { ok: true });
      assert.equal((await c.call({ cmd: 'GETSTATE', id: id2 })).state, 'unknown');
      assert.equal((await c.call({ cmd: 'CANCEL', id: id2 })).error, `Job ${id2} not found`);
      await c.call({ cmd: 'ACK', id });
      assert.equal((await c.call({ cmd: 'CANCEL', id })).error, `Job ${id} not found (already completed/failed)`);
    });

    it('DLQ and RETRYDLQ (one and all)', async () => {
      const pushed = await c.call({ cmd: 'PUSHB', queue: 'dlq-q', jobs: [{ data: 1 }, { data: 2 }, { data: 3 }] });
      const pulled = await c.call({ cmd: 'PULLB', queue: 'dlq-q', count: 3 });
      for (const j of pulled.jobs) await c.call({ cmd: 'FAIL', id: j.id, error: 'nope' });
      const dlq = await c.call({ cmd: 'DLQ', queue: 'dlq-q' });
      assert.deepEqual(dlq.jobs.map((j: { id: number }) => j.id), pushed.ids, 'oldest first');
      // the last error is the job's progress_msg, as the reference server shows it
      assert.deepEqual(dlq.jobs.map((j: { progress_msg: string }) => j.progress_msg), ['nope', 'nope', 'nope']);
      assert.equal((await c.call({ cmd: 'GETJOB', id: pushed.ids[0] })).job.progress_msg, 'nope');
      assert.deepEqual(await c.call({ cmd: 'RETRYDLQ', queue: 'dlq-q', id: pushed.ids[1] }), { ok: true, ids: [1] });
      assert.deepEqual(await c.call({ cmd: 'RETRYDLQ', queue: 'dlq-q' }), { ok: true, ids: [2] });
      const again = await c.call({ cmd: 'PULLB', queue: 'dlq-q', count: 10 });
      assert.equal(again.jobs.length, 3);
      assert.ok(again.jobs.every((j: { attempts: number }) => j.attempts === 1), 'a retried job starts fresh');
    });

    it('limits, pause and resume, LISTQUEUES with limits', async () => {
      for (const cmd of [
        { cmd: 'RATELIMIT', queue: 'lim', limit: 100 },
        { cmd: 'SETCONCURRENCY', queue: 'lim', limit: 5 },
        { cmd: 'PAUSE', queue: 'lim' },
      ]) assert.deepEqual(await c.call(cmd), { ok: true });
      await c.call({ cmd: 'PUSH', queue: 'lim', data: {} });
      let lq = await c.call({ cmd: 'LISTQUEUES' });
      assert.deepEqual(Object.keys(lq), ['ok', 'queues']);
      const q = lq.queues.find((x: { name: string }) => x.name === 'lim');
      assert.deepEqual(q, { name: 'lim', pending: 1, processing: 0, dlq: 0, paused: true, rate_limit: 100, concurrency_limit: 5 });
      assert.equal((await c.call({ cmd: 'PULL', queue: 'lim', timeout: 0 })).error, 'Queue paused');
      for (const cmd of [
        { cmd: 'RESUME', queue: 'lim' },
        { cmd: 'RATELIMITCLEAR', queue: 'lim' },
        { cmd: 'CLEARCONCURRENCY', queue: 'lim' },
      ]) assert.deepEqual(await c.call(cmd), { ok: true });
      lq = await c.call({ cmd: 'LISTQUEUES' });
      const q2 = lq.queues.find((x: { name: string }) => x.name === 'lim');
      assert.equal(q2.paused, false);
      assert.equal(q2.rate_limit, null);
      assert.equal(q2.concurrency_limit, null);
    });

    it('CRON, CRONLIST, CRONDELETE', async () => {
      assert.deepEqual(await c.call({ cmd: 'CRON', name: 'nightly', queue: 'maint', data: { a: 1 }, schedule: '0 0 3 * * *', priority: 2 }), { ok: true });
      const list = await c.call({ cmd: 'CRONLIST' });
      assert.deepEqual(Object.keys(list), ['ok', 'crons']);
      const cron = list.crons.find((x: { name: string }) => x.name === 'nightly');
      assert.deepEqual(Object.keys(cron), ['name', 'queue', 'data', 'schedule', 'priority', 'next_run']);
      assert.equal(new Date(cron.next_run).getUTCHours(), 3);
      // replacing it under another queue (possibly another shard) leaves one cron of that name
      await c.call({ cmd: 'CRON', name: 'nightly', queue: 'other-queue-7', data: {}, schedule: '*/5 * * * *', priority: 0 });
      const list2 = await c.call({ cmd: 'CRONLIST' });
      assert.deepEqual(list2.crons.filter((x: { name: string }) => x.name === 'nightly').map((x: { queue: string }) => x.queue), ['other-queue-7']);
      const bad = await c.call({ cmd: 'CRON', name: 'nightly', queue: 'maint', data: {}, schedule: 'every day' });
      assert.match(bad.error, /^Invalid cron expression/);
      assert.equal((await c.call({ cmd: 'CRONLIST' })).crons.filter((x: { name: string }) => x.name === 'nightly').length, 1, 'a refused CRON changes nothing');
      assert.deepEqual(await c.call({ cmd: 'CRONDELETE', name: 'nightly' }), { ok: true });
      assert.equal((await c.call({ cmd: 'CRONLIST' })).crons.filter((x: { name: string }) => x.name === 'nightly').length, 0);
    });

    it('CRON takes the */N interval shorthand and CRONLIST shows it as given', async () => {
      const before = Date.now();
      assert.deepEqual(await c.call({ cmd: 'CRON', name: 'every-minute', queue: 'ticks', data: { t: 1 }, schedule: '*/60' }), { ok: true });
      const after = Date.now();
      const cron = (await c.call({ cmd: 'CRONLIST' })).crons.find((x: { name: string }) => x.name === 'every-minute');
      assert.equal(cron.schedule, '*/60');
      assert.ok(cron.next_run >= before + 60_000 && cron.next_run <= after + 60_000, `next_run ${cron.next_run - before} ms after the request`);
      assert.match((await c.call({ cmd: 'CRON', name: 'never', queue: 'ticks', schedule: '*/0' })).error, /^Invalid cron expression: interval \*\/0/);
      assert.deepEqual(await c.call({ cmd: 'CRONDELETE', name: 'every-minute' }), { ok: true });
    });

    it('STATS and METRICS are flat / nested as documented', async () => {
      const stats = await c.call({ cmd: 'STATS' });
      assert.deepEqual(Object.keys(stats), ['ok', 'queued', 'processing', 'delayed', 'dlq']);
      const m = await c.call({ cmd: 'METRICS' });
      assert.deepEqual(Object.keys(m), ['ok', 'metrics']);
      assert.deepEqual(Object.keys(m.metrics), ['total_pushed', 'total_completed', 'total_failed', 'jobs_per_second', 'avg_latency_ms', 'queues']);
      // earlier tests pushed 9 jobs, completed 3 and moved 4 to the DLQ
      assert.ok(m.metrics.total_pushed >= 9, `pushed ${m.metrics.total_pushed}`);
      assert.ok(m.metrics.total_completed >= 3, `completed ${m.metrics.total_completed}`);
      assert.ok(m.metrics.total_failed >= 4, `failed ${m.metrics.total_failed}`);
      assert.equal(stats.dlq, 1, 'three of the four DLQ jobs were retried');
    });

    it('unknown commands and bad fields get errors and the connection stays usable', async () => {
      assert.deepEqual(await c.call({ cmd: 'FLY' }), { ok: false, data: null, error: 'Unknown command: FLY' });
      const bad = await c.call({ cmd: 'PUSH', queue: 'bad queue!', data: {} });
      assert.match(bad.error, /^Invalid queue name/);
      const badPri = await c.call({ cmd: 'PUSH', queue: 'ok', data: {}, priority: 'high' });
      assert.equal(badPri.ok, false);
      assert.match(badPri.error, /priority/);
      assert.equal((await c.call({ cmd: 'PUSH', queue: 'ok', data: {} })).ok, true);
    });

    it('reqId is echoed on answers and errors', async () => {
      const a = await c.call({ cmd: 'PUSH', queue: 'rq', data: {}, reqId: 'r-1' });
      assert.equal(a.reqId, 'r-1');
      const b = await c.call({ cmd: 'NOPE', reqId: 7 });
      assert.equal(b.reqId, 7);
      assert.equal(b.ok, false);
      const s = await c.call({ cmd: 'STATS', reqId: 'fan' });
      assert.equal(s.reqId, 'fan');
    });
  });
}
