import assert from 'node:assert/strict';
import { partitionOf } from '../../src/engine/partition.js';
import type { WireClient } from '../helpers/wire.js';
import { freshDatabase } from '../store/pg.js';
import { callRetrying, ClusterProc } from './node-cluster.js';

/** Queue names whose partitions are served by each of `owners` (node id → partitions). */
export function queuesOn(served: Map<string, number[]>, perNode: number): Map<string, string[]> {
  const byNode = new Map<string, string[]>([...served.keys()].map((k) => [k, []]));
  const ownerOf = new Map<number, string>();
  for (const [id, ps] of served) for (const p of ps) ownerOf.set(p, id);
  for (let i = 0; [...byNode.values()].some((l) => l.length < perNode); i++) {
    const q = `cq-${i}`;
    const owner = ownerOf.get(partitionOf(q));
    const list = owner === undefined ? undefined : byNode.get(owner);
    if (list !== undefined && list.length < perNode) list.push(q);
  }
  return byNode;
}

export async function pushAll(c: WireClient, queues: string[], perQueue: number): Promise<Map<number, string>> {
  const ids = new Map<number, string>();
  for (const q of queues) {
    for (let k = 0; k < perQueue; k++) {
      const a = await callRetrying(c, { cmd: 'PUSH', queue: q, data: { q, k } });
      assert.equal(a.ok, true, `PUSH to ${q}: ${JSON.stringify(a)}`);
      ids.set(a.id as number, q);
    }
  }
  return ids;
}

/** Pull everything of `queues` through `c` and ack it through `acker`; returns the ids, in order. */
export async function drain(c: WireClient, acker: WireClient, queues: string[]): Promise<number[]> {
  const got: number[] = [];
  for (const q of queues) {
    for (;;) {
      const a = await callRetrying(c, { cmd: 'PULLB', queue: q, count: 50, timeout: 0 });
      assert.equal(a.ok, true, `PULLB ${q}: ${JSON.stringify(a)}`);
      const jobs = a.jobs as Array<{ id: number; queue: string }>;
      if (jobs.length === 0) break;
      for (const j of jobs) assert.equal(j.queue, q);
      const ids = jobs.map((j) => j.id);
      const ack = await callRetrying(acker, { cmd: 'ACKB', ids });
      assert.equal(ack.ok, true, `ACKB through another node: ${JSON.stringify(ack)}`);
      got.push(...ids);
    }
  }
  return got;
}

/** The processes and connections of one test's cluster, ended together (SIGKILL) by `cleanup`. */
export class ClusterFixture {
  procs: ClusterProc[] = [];
  private readonly clients: WireClient[] = [];

  /** A fresh database and `ids.length` nodes started one after the other (the first migrates). */
  async start(db: string, ids: string[], ttlMs: number, env: Record<string, string> = {}): Promise<ClusterProc[]> {
    this.url = await freshDatabase(db);
    const out: ClusterProc[] = [];
    for (const id of ids) out.push(await this.add(id, ttlMs, env));
    return out;
  }

  url = '';

  async add(id: string, ttlMs: number, env: Record<string, string> = {}): Promise<ClusterProc> {
    const n = await ClusterProc.start(this.url, id, ttlMs, env);
    this.procs.push(n);
    return n;
  }

  async client(n: ClusterProc): Promise<WireClient> {
    const c = await n.tcp();
    this.clients.push(c);
    return c;
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients) c.destroy();
    for (const p of this.procs) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
    await Promise.all(this.procs.map((p) => p.server.exited));
    this.procs = [];
    this.clients.length = 0;
  }
}

/** The node serving `queue`'s partition, as /cluster/partitions on `via` says. */
export async function ownerOfQueue(via: ClusterProc, queue: string): Promise<string | null> {
  const map = await via.get<Array<{ partition: number; owner: string | null }>>('/cluster/partitions');
  return map.find((r) => r.partition === partitionOf(queue))?.owner ?? null;
}
