import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireAssigned } from '../../src/cluster/partition-leases.js';
import { migrateCluster } from '../../src/cluster/schema.js';
import { ErrorCode } from '../../src/base/errors.js';
import { partitionOf } from '../../src/engine/partition.js';
import { InlineLink } from '../../src/front/inline-link.js';
import type { ShardLink, ShardOutput } from '../../src/front/shard-link.js';
import { WorkerLink } from '../../src/front/worker-link.js';
import { Format } from '../../src/protocol/result.js';
import { Kind } from '../../src/ring/kinds.js';
import { encodeControl, type ControlMessage, type PartitionReport } from '../../src/shard/messages.js';
import type { ShardOptions } from '../../src/shard/start.js';
import { connect, type Sql } from '../../src/store/connection.js';
import { migrateDatabase } from '../../src/store/schema.js';
import { waitFor } from '../helpers/server.js';
import { NO_PG, freshDatabase, query } from '../store/pg.js';

type Mode = 'inline' | 'worker';
interface Answer {
  code: number;
  body: Record<string, unknown>;
}

/**
 * One cluster shard (shard 0 of 1, so every partition is its) of node `nodeId`, inline or on a
 * worker thread, driven through its real link: requests in, answers and CONTROL reports out.
 */
class ClusterShard {
  readonly reports: ControlMessage[] = [];
  private readonly pending = new Map<number, (a: Answer) => void>();
  private nextConn = 1;
  private link!: ShardLink;

  private constructor(readonly nodeId: string) {}

  static async start(mode: Mode, url: string, nodeId: string): Promise<ClusterShard> {
    const s = new ClusterShard(nodeId);
    const opts: ShardOptions = { index: 0, count: 1, keepCompleted: 1000, maxQueues: 100, maxBatch: 1000, cluster: { nodeId, idleMs: 10_000 } };
    const output: ShardOutput = {
      answer: (conn, _seq, code, bytes) => {
        const done = s.pending.get(conn);
        s.pending.delete(conn);
        done?.({ code, body: JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown> });
      },
      event: () => {},
      shardMsg: () => {},
      control: (_shard, msg) => s.reports.push(msg as ControlMessage),
      turnDone: () => {},
    };
    const store = { url, persist: 'sync' as const };
    if (mode === 'inline') s.link = await InlineLink.open(0, opts, output, store);
    else {
      const w = new WorkerLink(0, opts, output, store, 'error');
      await w.ready;
      s.link = w;
    }
    return s;
  }

  get inline(): InlineLink | null {
    return this.link instanceof InlineLink ? this.link : null;
  }

  /** `flush` false: the record waits in the open turn until flush() (as the front batches a turn) */
  request(req: Record<string, unknown>, flush = true): Promise<Answer> {
    const conn = this.nextConn++;
    const answered = new Promise<Answer>((resolve) => this.pending.set(conn, resolve));
    this.link.add(Kind.REQUEST, Format.TcpJson, conn, 0, JSON.stringify(req) + '\n');
    if (flush) this.link.flush();
    return answered;
  }

  control(msg: ControlMessage, flush = true): void {
    this.link.add(Kind.CONTROL, Format.Internal, 0, 0, encodeControl(msg));
    if (flush) this.link.flush();
  }

  flush(): void {
    this.link.flush();
  }

  async report(op: PartitionReport['op'], partition: number): Promise<ControlMessage> {
    return await waitFor<ControlMessage | undefined>(
      () => this.reports.find((r) => r.op === op && 'partitions' in r && r.partitions.includes(partition)),
      15_000,
      `a ${op} report for partition ${partition} from ${this.nodeId}`,
    ) as ControlMessage;
  }

  async gain(partition: number, epoch: number): Promise<void> {
    this.control({ op: 'gain', partitions: [partition], epochs: [epoch] });
    await this.report('gained', partition);
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

const Q = 'orders';
const P = partitionOf(Q);
/** a second queue in the same partition */
const Q2 = (() => {
  for (let i = 0; ; i++) if (partitionOf(`side${i}`) === P) return `side${i}`;
})();

let url = '';
let sql: Sql;

before(async () => {
  if (NO_PG) return;
  url = await freshDatabase('cluster_shards');
  await migrateDatabase(url);
  sql = connect(url, { max: 2, name: 'cluster shards test' });
  await migrateCluster(sql);
});

after(async () => {
  await sql?.end({ timeout: 1 });
});

/** Node `node` takes partition p over with partition-leases' take (the old lease is expired first). */
async function take(node: string, p: number): Promise<number> {
  await sql.unsafe(
    "update flashq_partitions set assigned_to = $1, expires_at = least(expires_at, now() - interval '1 millisecond') where partition = $2",
    [node, p],
  );
  const held = await acquireAssigned(sql, node, 3_600_000, []);
  const hold = held.find((h) => h.partition === p);
  assert.ok(hold, `${node} took partition ${p}`);
  return hold.epoch;
}

async function clearPartition(p: number): Promise<void> {
  await sql.unsafe('delete from flashq_jobs where partition = $1', [p]);
  await sql.unsafe('delete from flashq_queues where partition = $1', [p]);
  await sql.unsafe('delete from flashq_crons where partition = $1', [p]);
}

function notServed(a: Answer, p: number): void {
  assert.equal(a.code, ErrorCode.NotServed);
  assert.deepEqual(a.body, { ok: false, error: `Partition ${p} is not served by this node`, data: null });
}

for (const mode of ['inline', 'worker'] as const) {
  describe(`a cluster shard (${mode})`, { skip: NO_PG }, () => {
    test('serves nothing at start, then gains a partition with what another node committed to it', async () => {
      await clearPartition(P);
      const a = await ClusterShard.start(mode, url, `a-${mode}`);
      assert.deepEqual(a.reports, [{ op: 'store', available: true }]);
      notServed(await a.request({ cmd: 'PUSH', queue: Q, data: { n: 0 } }), P);
      await a.gain(P, await take(a.nodeId, P));
      const first = await a.request({ cmd: 'PUSH', queue: Q, data: { n: 1 }, max_attempts: 3, backoff: 0 });
      const second = await a.request({ cmd: 'PUSH', queue: Q, data: { n: 2 } });
      assert.deepEqual([first.body.ok, second.body.ok], [true, true]);
      const pulled = await a.request({ cmd: 'PULL', queue: Q, timeout: 0 });
      assert.equal((pulled.body.job as { id: number }).id, first.body.id);
      assert.equal((await a.request({ cmd: 'PAUSE', queue: Q2 })).body.ok, true);
      await a.close();

      const b = await ClusterShard.start(mode, url, `b-${mode}`);
      notServed(await b.request({ cmd: 'GETJOB', id: first.body.id }), P);
      notServed(await b.request({ cmd: 'ACKB', ids: [second.body.id] }), P);
      // global commands are answered with what the shard serves: nothing yet
      assert.deepEqual((await b.request({ cmd: 'STATS' })).body, { ok: true, queued: 0, processing: 0, delayed: 0, dlq: 0 });
      await b.gain(P, await take(b.nodeId, P));
      // the lease A held when it lost the partition is lost: the attempt is spent, the job retries
      const job1 = (await b.request({ cmd: 'GETJOB', id: first.body.id })).body;
      assert.equal(job1.state, 'waiting');
      assert.equal((job1.job as { attempts: number }).attempts, 1);
      assert.equal((await b.request({ cmd: 'GETSTATE', id: second.body.id })).body.state, 'waiting');
      const queues = (await b.request({ cmd: 'LISTQUEUES' })).body.queues as Array<{ name: string; paused: boolean }>;
      assert.deepEqual(queues.map((q) => [q.name, q.paused]).sort(), [[Q, false], [Q2, true]].sort());
      // the database agrees (what restoring decided was committed under B's epoch)
      const rows = await query<{ id: number; state: string; attempts: number }>(url, 'select id, state, attempts from flashq_jobs where partition = $1 order by id', [P]);
      assert.deepEqual([...rows], [
        { id: first.body.id, state: 'waiting', attempts: 1 },
        { id: second.body.id, state: 'waiting', attempts: 0 },
      ]);
      const next = await b.request({ cmd: 'PUSH', queue: Q, data: { n: 3 } });
      assert.ok((next.body.id as number) > (second.body.id as number), 'ids continue after the stored sequence');
      await b.close();
    });

    test('lose answers blocked pulls at once, drops everything, then reports lost', async () => {
      await clearPartition(P);
      const a = await ClusterShard.start(mode, url, `lose-${mode}`);
      await a.gain(P, await take(a.nodeId, P));
      for (let i = 0; i < 5; i++) assert.equal((await a.request({ cmd: 'PUSH', queue: Q, data: { i }, delay: i * 60_000 })).body.ok, true);
      await a.request({ cmd: 'CRON', name: `c-${mode}`, queue: Q, schedule: '0 0 * * * *', data: {} });
      const blocked = a.request({ cmd: 'PULL', queue: Q2, timeout: 60_000 });
      const t0 = Date.now();
      a.control({ op: 'lose', partitions: [P] });
      const answer = await blocked;
      assert.deepEqual([answer.body.ok, answer.body.job], [true, null]);
      assert.ok(Date.now() - t0 < 10_000, 'the blocked pull was answered by the lose, not by its timeout');
      await a.report('lost', P);
      notServed(await a.request({ cmd: 'PUSH', queue: Q, data: {} }), P);
      assert.deepEqual((await a.request({ cmd: 'STATS' })).body, { ok: true, queued: 0, processing: 0, delayed: 0, dlq: 0 });
      assert.deepEqual((await a.request({ cmd: 'LISTQUEUES' })).body.queues, []);
      assert.deepEqual((await a.request({ cmd: 'CRONLIST' })).body.crons, []);
      const held = a.inline?.core.engine.footprint();
      if (held) assert.deepEqual(held, { partitions: 0, jobs: 0, queues: 0, crons: 0, retained: 0, timers: 0, leases: 0, remoteWaits: 0 });
      // the rows stay for the next owner
      assert.equal((await query<{ n: number }>(url, 'select count(*)::int as n from flashq_jobs where partition = $1', [P]))[0]!.n, 5);
      await a.close();
    });

    test('requests applied in the turn a lose arrives in are committed before the drop (or refused), never answered ok and forgotten', async () => {
      await clearPartition(P);
      const a = await ClusterShard.start(mode, url, `lose-turn-${mode}`);
      await a.gain(P, await take(a.nodeId, P));
      const pushed = a.request({ cmd: 'PUSH', queue: Q, data: 'before' }, false);
      a.control({ op: 'lose', partitions: [P] }, false);
      // the front flushes on its next setImmediate: promise callbacks of the lose run first
      await new Promise((r) => setImmediate(r));
      a.flush();
      const answer = await pushed;
      await a.report('lost', P);
      const rows = await query<{ id: number }>(url, 'select id from flashq_jobs where partition = $1', [P]);
      if (answer.body.ok === true) assert.deepEqual(rows.map((r) => r.id), [answer.body.id], 'a push answered ok is stored');
      else assert.deepEqual(rows, [], `a refused push is not stored: ${JSON.stringify(answer.body)}`);
      await a.close();
    });

    test('a commit after another node took the partition is refused, leaves no row, and drops it', async () => {
      await clearPartition(P);
      const a = await ClusterShard.start(mode, url, `stale-${mode}`);
      await a.gain(P, await take(a.nodeId, P));
      const kept = await a.request({ cmd: 'PUSH', queue: Q, data: 'kept' });
      assert.equal(kept.body.ok, true);
      await take(`thief-${mode}`, P);
      const refused = await a.request({ cmd: 'PUSH', queue: Q, data: 'refused' });
      assert.equal(refused.code, ErrorCode.StorageUnavailable);
      assert.deepEqual(refused.body, { ok: false, error: 'Storage unavailable', data: null });
      await a.report('fenced', P);
      const rows = await query<{ id: number }>(url, 'select id from flashq_jobs where partition = $1', [P]);
      assert.deepEqual(rows.map((r) => r.id), [kept.body.id]);
      notServed(await a.request({ cmd: 'GETJOB', id: kept.body.id }), P);
      // the shard rebuilds what it still serves (nothing) and takes commands again
      await waitFor(() => a.reports.filter((r) => r.op === 'store').at(-1)?.op === 'store' && (a.reports.filter((r) => r.op === 'store').at(-1) as { available: boolean }).available, 15_000, 'store back');
      await a.close();
    });
  });
}

describe('cluster crons', { skip: NO_PG }, () => {
  test('a cron run fires once: a second shard firing the same next run is refused', async () => {
    await clearPartition(P);
    const node = 'cron-node';
    const epoch = await take(node, P);
    const nextRun = Date.now() + 1500;
    await sql.unsafe(
      "insert into flashq_crons (partition, name, queue, schedule, data, priority, next_run) values ($1, 'twice', $2, '0 0 * * * *', '{}', 0, $3)",
      [P, Q, nextRun],
    );
    // two shards that both believe they hold the partition at the same epoch (the fence passes both)
    const one = await ClusterShard.start('inline', url, node);
    const two = await ClusterShard.start('inline', url, node);
    await Promise.all([one.gain(P, epoch), two.gain(P, epoch)]);
    const refused = await waitFor(() => [one, two].find((s) => s.reports.some((r) => r.op === 'fenced')), 15_000, 'one firing refused');
    const winner = refused === one ? two : one;
    const jobs = await query<{ n: number }>(url, 'select count(*)::int as n from flashq_jobs where partition = $1 and queue = $2', [P, Q]);
    assert.equal(jobs[0]!.n, 1, 'one job for the run');
    const [cron] = await query<{ next_run: number }>(url, "select next_run from flashq_crons where name = 'twice'");
    assert.ok(cron!.next_run > nextRun, 'the next run advanced once');
    assert.equal(winner.reports.some((r) => r.op === 'fenced'), false);
    await Promise.all([one.close(), two.close()]);
  });
});
