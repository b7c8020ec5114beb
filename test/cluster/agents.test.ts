import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { migrateCluster } from '../../src/cluster/schema.js';
import { PARTITIONS } from '../../src/engine/types.js';
import { connect, type Sql } from '../../src/store/connection.js';
import { migrate } from '../../src/store/schema.js';
import { waitFor } from '../helpers/server.js';
import { freshDatabase, NO_PG } from '../store/pg.js';
import { AgentProc, leader, leaseRows, settled } from './agent-cluster.js';

// Small leases keep the tests short; the machine is shared, so the renewal period (TTL/4) and the
// margin (TTL/5) must still absorb scheduling delays of a few hundred milliseconds.
const TTL = 2_000;

let procs: AgentProc[] = [];
let pools: Sql[] = [];

afterEach(async () => {
  for (const p of procs) {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
  await Promise.all(procs.map((p) => p.exited));
  await Promise.all(pools.map((s) => s.end({ timeout: 1 })));
  procs = [];
  pools = [];
});

async function cluster(name: string, ids: string[]): Promise<{ sql: Sql; nodes: AgentProc[]; url: string }> {
  const url = await freshDatabase(name);
  const sql = connect(url, { max: 1, name: 'cluster test' });
  pools.push(sql);
  await migrate(sql);
  await migrateCluster(sql);
  await sql.unsafe('create table cluster_probe (tag text primary key, node text not null)');
  const nodes: AgentProc[] = [];
  for (const id of ids) {
    const n = await AgentProc.start(url, id, TTL);
    procs.push(n);
    nodes.push(n);
  }
  return { sql, nodes, url };
}

function dump(nodes: AgentProc[]): string {
  return nodes.map((n) => `${n.nodeId}: ${n.held.size} held\n${n.output().slice(-1500)}`).join('\n');
}

async function settle(sql: Sql, nodes: AgentProc[], timeoutMs: number, what: string) {
  try {
    return (await waitFor(() => settled(sql, nodes), timeoutMs, what))!;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${dump(nodes)}`);
  }
}

test('three nodes split every partition; after SIGKILL of the leader a new leader serves them all within 2 × LEASE_TTL_MS', { skip: NO_PG }, async (t) => {
  const { sql, nodes } = await cluster('cluster_kill', ['a', 'b', 'c']);
  const before = await settle(sql, nodes, 10_000, 'three nodes settled');
  assert.deepEqual(nodes.map((n) => n.held.size).sort(), [85, 85, 86]);
  const term = (await leader(sql)).term;
  const victim = nodes.find((n) => n.nodeId === before.leader)!;
  const survivors = nodes.filter((n) => n !== victim);

  const killedAt = Date.now();
  victim.kill('SIGKILL');
  await victim.exited;
  const after = await settle(sql, survivors, 2 * TTL, 'survivors settled within 2 × TTL');
  const elapsed = Date.now() - killedAt;
  t.diagnostic(`failover: ${elapsed} ms with LEASE_TTL_MS ${TTL}`);
  assert.ok(elapsed <= 2 * TTL, `failover took ${elapsed} ms`);
  assert.ok((await leader(sql)).term > term, 'a new term');
  assert.deepEqual(survivors.map((n) => n.held.size), [128, 128]);
  // only the victim's partitions moved, each to a higher epoch
  for (let p = 0; p < PARTITIONS; p++) {
    const was = before.rows[p]!;
    const now = after.rows[p]!;
    if (was.owner === victim.nodeId) assert.ok(now.epoch > was.epoch, `partition ${p} taken at a new epoch`);
    else assert.deepEqual(now, was, `partition ${p} of a survivor stayed put`);
  }
});

test('a node frozen past its lease (SIGSTOP) is fenced on resuming: its commits at the old epochs are refused and it drops those partitions', { skip: NO_PG }, async () => {
  const { sql, nodes } = await cluster('cluster_stop', ['a', 'b', 'c']);
  const first = await settle(sql, nodes, 10_000, 'three nodes settled');
  const frozen = nodes.find((n) => n.nodeId !== first.leader)!;
  const others = nodes.filter((n) => n !== frozen);
  const old = frozen.holds();
  assert.ok(old.length >= 85);
  const ok = await frozen.commit('before-freeze', { partitions: [old[0]!.partition] });
  assert.equal(ok.ok, true, ok.error);

  frozen.kill('SIGSTOP');
  await settle(sql, others, 4 * TTL, 'the others took the frozen node’s partitions');
  const rows = await leaseRows(sql);
  for (const h of old) assert.ok(rows[h.partition]!.epoch > h.epoch);

  frozen.kill('SIGCONT');
  // a commit prepared before the freeze, at the epochs it held then
  const stale = await frozen.commit('stale', { holds: old.slice(0, 3) });
  assert.equal(stale.ok, false);
  assert.equal(stale.fenced, true, stale.error);
  assert.match(stale.error!, /no longer holds partition/);
  // it notices on its own that it lost every one of them
  await waitFor(() => old.every((h) => frozen.events.some((e) => e.ev === 'lost' && e.partition === h.partition && e.epoch === h.epoch)), 2 * TTL, 'losses noticed');
  const probe = await sql.unsafe<Array<{ tag: string }>>('select tag from cluster_probe order by tag');
  assert.deepEqual(probe.map((r) => r.tag), ['before-freeze'], 'the stale commit left nothing');

  // it rejoins: the leader gives it a share again, at new epochs, and its commits pass there
  await settle(sql, nodes, 4 * TTL, 'rebalanced with the resumed node');
  const again = frozen.holds();
  for (const h of again) {
    const was = old.find((o) => o.partition === h.partition);
    if (was) assert.ok(h.epoch > was.epoch);
  }
  const fresh = await frozen.commit('after-rejoin', { partitions: [again[0]!.partition] });
  assert.equal(fresh.ok, true, fresh.error);
});

test('a node joining takes its share only from the others, and leaving gives back only its own', { skip: NO_PG }, async () => {
  const { sql, nodes, url } = await cluster('cluster_join', ['a', 'b']);
  const two = await settle(sql, nodes, 10_000, 'two nodes settled');
  assert.deepEqual(nodes.map((n) => n.held.size), [128, 128]);

  const seen = nodes.map((n) => n.events.length);
  const c = await AgentProc.start(url, 'c', TTL);
  procs.push(c);
  const three = await settle(sql, [...nodes, c], 4 * TTL, 'three nodes settled');
  const moved = three.rows.filter((r, p) => r.owner !== two.rows[p]!.owner);
  assert.equal(moved.length, 85, 'the fewest moves: c takes its 85, the extra one stays');
  assert.ok(moved.every((r) => r.owner === 'c'));
  for (const [i, n] of nodes.entries()) {
    const lost = n.events.slice(seen[i]).filter((e) => e.ev === 'lost');
    assert.equal(lost.length, moved.filter((r) => two.rows[r.partition]!.owner === n.nodeId).length);
    assert.ok(lost.every((e) => e.reason === 'reassigned' && three.rows[e.partition!]!.owner === 'c'), `${n.nodeId} lost only what c took`);
  }

  c.send({ cmd: 'stop' });
  await c.waitEvent((e) => e.ev === 'stopped', 10_000, 'graceful stop');
  const back = await settle(sql, nodes, 4 * TTL, 'two nodes settled again');
  const returned = back.rows.filter((r, p) => r.owner !== three.rows[p]!.owner);
  assert.equal(returned.length, 85, 'only the leaver’s partitions moved');
  assert.deepEqual(nodes.map((n) => n.held.size).sort(), [128, 128]);
  assert.ok(c.events.filter((e) => e.ev === 'lost').every((e) => e.reason === 'stopped'));
});
