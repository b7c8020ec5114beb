import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { partitionOf } from '../../src/engine/partition.js';
import { waitFor } from '../helpers/server.js';
import type { WireClient } from '../helpers/wire.js';
import { freshDatabase, NO_PG } from '../store/pg.js';
import { callRetrying, ClusterProc, waitSettled } from './node-cluster.js';

// depends_on across nodes: the parent's partition on one node, the child's on another, the push
// through a third. Node A runs its shard inline (SHARDS=0), B and C on worker threads.
const TTL = 3_000;
const SHARDS: Record<string, string> = { 'node-a': '0', 'node-b': '2', 'node-c': '2' };

let procs: ClusterProc[] = [];
let clients: WireClient[] = [];

afterEach(async () => {
  for (const c of clients) c.destroy();
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.server.exited));
  procs = [];
  clients = [];
});

async function cluster(db: string): Promise<{ nodes: Map<string, ClusterProc>; queues: Map<string, string[]> }> {
  const url = await freshDatabase(db);
  const nodes = new Map<string, ClusterProc>();
  for (const id of Object.keys(SHARDS)) {
    const n = await ClusterProc.start(url, id, TTL, { SHARDS: SHARDS[id]! });
    procs.push(n);
    nodes.set(id, n);
  }
  const served = await waitSettled([...nodes.values()], 30_000, 'three nodes share the partitions', true);
  // a few queues per node, each on a partition that node serves
  const owner = new Map<number, string>();
  for (const [id, ps] of served) for (const p of ps) owner.set(p, id);
  const queues = new Map<string, string[]>([...served.keys()].map((k) => [k, []]));
  for (let i = 0; [...queues.values()].some((l) => l.length < 3); i++) {
    const q = `dq-${i}`;
    const list = queues.get(owner.get(partitionOf(q))!)!;
    if (list.length < 3) list.push(q);
  }
  return { nodes, queues };
}

async function client(n: ClusterProc): Promise<WireClient> {
  const c = await n.tcp();
  clients.push(c);
  return c;
}

async function push(c: WireClient, queue: string, extra: object = {}): Promise<number> {
  const a = await callRetrying(c, { cmd: 'PUSH', queue, data: { queue }, ...extra });
  assert.equal(a.ok, true, `PUSH to ${queue} ${JSON.stringify(extra)}: ${JSON.stringify(a)}`);
  return a.id as number;
}

async function stateOf(c: WireClient, id: number): Promise<{ state: string; job: Record<string, any> }> {
  const j = await callRetrying(c, { cmd: 'GETJOB', id });
  assert.equal(j.ok, true, `GETJOB ${id}: ${JSON.stringify(j)}`);
  return j as { state: string; job: Record<string, any> };
}

/** Pull `id` from `queue` through `c` (the only job there), waiting until it is ready. */
async function pullReady(c: WireClient, queue: string, id: number, what: string): Promise<void> {
  const got = await waitFor(async () => {
    const a = await callRetrying(c, { cmd: 'PULL', queue, timeout: 0 });
    assert.equal(a.ok, true, `PULL ${queue}: ${JSON.stringify(a)}`);
    return a.job ?? null;
  }, 20_000, what);
  assert.equal(got.id, id, `${what}: the job pulled`);
}

/** Pull the parent from its queue and complete it through `c`. */
async function complete(c: WireClient, queue: string, id: number): Promise<void> {
  await pullReady(c, queue, id, `parent ${id} to be pulled`);
  const ack = await callRetrying(c, { cmd: 'ACK', id, result: { done: id } });
  assert.equal(ack.ok, true, `ACK ${id}: ${JSON.stringify(ack)}`);
}

describe('cluster mode: depends_on across nodes', { skip: NO_PG }, () => {
  test('a child on C, pushed through B, waits for its parent on A and is pulled once the parent completes', async () => {
    const { nodes, queues } = await cluster('cluster_deps_ready');
    const [qa] = queues.get('node-a')!;
    const [qc] = queues.get('node-c')!;
    const ca = await client(nodes.get('node-a')!);
    const cb = await client(nodes.get('node-b')!);
    const cc = await client(nodes.get('node-c')!);

    const parent = await push(ca, qa!);
    const child = await push(cb, qc!, { depends_on: [parent] });
    for (const c of [ca, cb, cc]) assert.equal((await stateOf(c, child)).state, 'waiting-children');
    const early = await cc.call({ cmd: 'PULL', queue: qc, timeout: 0 });
    assert.equal(early.ok, true);
    assert.equal(early.job, null, `the child is not pullable while its parent runs: ${JSON.stringify(early)}`);

    // a parent that already completed: a child pushed afterwards is ready at once
    await complete(cb, qa!, parent);
    await pullReady(cc, qc!, child, 'the child to become ready on C after its parent completed on A');
    assert.equal((await callRetrying(cc, { cmd: 'ACK', id: child })).ok, true);
    const late = await push(cb, qc!, { depends_on: [parent] });
    assert.equal((await stateOf(ca, late)).state, 'waiting');

    // a parent that is unknown on its owner: the push is refused, as on a single node
    const missing = parent + 256 * 1000;
    const refused = await callRetrying(cb, { cmd: 'PUSH', queue: qc, data: 1, depends_on: [missing] });
    assert.equal(refused.ok, false);
    assert.match(String(refused.error), new RegExp(`Job ${missing} not found`));
  });

  test('a parent failed to the DLQ on A fails its child on C and the grandchild on B; a cancelled parent fails its child', async () => {
    const { nodes, queues } = await cluster('cluster_deps_cascade');
    const [qa, qa2] = queues.get('node-a')!;
    const [qb] = queues.get('node-b')!;
    const [qc] = queues.get('node-c')!;
    const ca = await client(nodes.get('node-a')!);
    const cb = await client(nodes.get('node-b')!);
    const cc = await client(nodes.get('node-c')!);

    const parent = await push(ca, qa!, { max_attempts: 1 });
    const child = await push(cb, qc!, { depends_on: [parent] });
    const grandchild = await push(ca, qb!, { depends_on: [child] });
    assert.equal((await stateOf(cc, grandchild)).state, 'waiting-children');

    await pullReady(cc, qa!, parent, 'the parent to be pulled through C');
    const failed = await cc.call({ cmd: 'FAIL', id: parent, error: 'boom' });
    assert.equal(failed.ok, true, JSON.stringify(failed));
    assert.equal((await stateOf(ca, parent)).state, 'failed');

    const c1 = await waitFor(async () => {
      const s = await stateOf(ca, child);
      return s.state === 'failed' ? s : null;
    }, 20_000, 'the child on C to fail with its parent on A');
    assert.equal(c1!.job.progress_msg, `Dependency ${parent} failed`);
    const g1 = await waitFor(async () => {
      const s = await stateOf(cc, grandchild);
      return s.state === 'failed' ? s : null;
    }, 20_000, 'the grandchild on B to fail with the child on C');
    assert.equal(g1!.job.progress_msg, `Dependency ${child} failed`);
    const dlq = await cb.call({ cmd: 'DLQ', queue: qb });
    assert.ok((dlq.jobs as Array<{ id: number }>).some((j) => j.id === grandchild), `the grandchild is in its DLQ: ${JSON.stringify(dlq)}`);

    const cancelled = await push(ca, qa2!);
    const orphan = await push(cc, qb!, { depends_on: [cancelled] });
    assert.equal((await cb.call({ cmd: 'CANCEL', id: cancelled })).ok, true);
    const o1 = await waitFor(async () => {
      const s = await stateOf(cb, orphan);
      return s.state === 'failed' ? s : null;
    }, 20_000, 'the child on B to fail when its parent on A is cancelled');
    assert.equal(o1!.job.progress_msg, `Dependency ${cancelled} failed`);
  });

  test('SIGKILL of the node holding a parent (and another waiting child): after failover the children become ready when their parents complete', async () => {
    const { nodes, queues } = await cluster('cluster_deps_failover');
    const a = nodes.get('node-a')!;
    const [qa] = queues.get('node-a')!;
    const [qc, qc2] = queues.get('node-c')!;
    const cb = await client(nodes.get('node-b')!);
    const cc = await client(nodes.get('node-c')!);

    // the parent's partition moves: a parent on A, its child on C
    const parent = await push(cb, qa!);
    const child = await push(cb, qc!, { depends_on: [parent] });
    // the child's partition moves: a parent on C, its child on A
    const parent2 = await push(cc, qc2!);
    const child2 = await push(cc, qa!, { depends_on: [parent2] });
    assert.equal((await stateOf(cc, child)).state, 'waiting-children');
    assert.equal((await stateOf(cb, child2)).state, 'waiting-children');

    a.kill('SIGKILL');
    await a.server.exited;
    await waitSettled([nodes.get('node-b')!, nodes.get('node-c')!], 4 * TTL + 10_000, 'B and C to take over A\'s partitions');
    assert.equal((await stateOf(cb, child)).state, 'waiting-children', 'the child still waits after its parent moved');
    assert.equal((await stateOf(cc, child2)).state, 'waiting-children', 'the moved child still waits');

    await complete(cc, qa!, parent);
    await pullReady(cb, qc!, child, 'the child on C to become ready after its parent, moved off A, completed');
    await complete(cb, qc2!, parent2);
    await pullReady(cc, qa!, child2, 'the child moved off A to become ready after its parent on C completed');
  });
});
