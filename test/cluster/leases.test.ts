import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertHolds, FencedError } from '../../src/cluster/fencing.js';
import { claimLeadership, currentLeader, renewLeadership, resignLeadership } from '../../src/cluster/leader.js';
import { heartbeat, join, leave, liveNodes, listNodes } from '../../src/cluster/membership.js';
import { acquireAssigned, readPartitions, releaseHeld, renewHeld, writeAssignment } from '../../src/cluster/partition-leases.js';
import { migrateCluster } from '../../src/cluster/schema.js';
import { PARTITIONS } from '../../src/engine/types.js';
import { connect, type Sql } from '../../src/store/connection.js';
import { migrate } from '../../src/store/schema.js';
import { freshDatabase, NO_PG } from '../store/pg.js';

let url = '';
let sql: Sql;

before(async () => {
  if (NO_PG) return;
  url = await freshDatabase('cluster_leases');
  sql = connect(url, { max: 6, name: 'cluster leases test' });
  await migrate(sql);
  assert.deepEqual(await migrateCluster(sql), [1001, 1002]);
  await sql.unsafe('create table probe (tag text primary key)');
});

after(async () => {
  await sql?.end({ timeout: 1 });
});

/** A fresh connection of its own, so a test can hold a transaction open beside others. */
function conn(name: string): Sql {
  return connect(url, { max: 1, name });
}

/** A promise opened from outside: the tests order two connections' steps with them. */
function latch(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

/** Let partition p's lease run out (by the database's clock) without waiting for it. */
async function expire(p: number): Promise<void> {
  await sql.unsafe("update flashq_partitions set expires_at = now() - interval '1 millisecond' where partition = $1", [p]);
}

async function probeTags(): Promise<string[]> {
  return (await sql.unsafe<Array<{ tag: string }>>('select tag from probe order by tag')).map((r) => r.tag);
}

async function assignTo(node: string | null, parts: number[]): Promise<void> {
  await sql.unsafe('update flashq_partitions set assigned_to = $1 where partition = any(array(select json_array_elements_text($2::text::json))::smallint[])', [
    node,
    JSON.stringify(parts),
  ]);
}

test('the cluster migration applies once, also with several nodes starting together', { skip: NO_PG }, async () => {
  const again = await Promise.all([migrateCluster(sql), migrateCluster(sql), migrateCluster(sql)]);
  assert.deepEqual(again, [[], [], []]);
  const parts = await readPartitions(sql);
  assert.equal(parts.length, PARTITIONS);
  assert.ok(parts.every((p, i) => p.partition === i && p.owner === null && p.epoch === 0));
  const logged = await sql.unsafe<Array<{ relpersistence: string }>>("select relpersistence from pg_class where relname = 'flashq_partitions'");
  assert.equal(logged[0]!.relpersistence, 'p', 'the lease table is logged (survives a crash of PostgreSQL)');
});

test('membership: liveness is judged by the database clock; a second process with the same id is detected', { skip: NO_PG }, async () => {
  const addr = { nodeId: 'm1', host: '10.0.0.1', port: 6789, clusterPort: 6792 };
  await join(sql, addr, 'inc-1');
  await join(sql, { ...addr, nodeId: 'm2' }, 'inc-2');
  assert.deepEqual((await liveNodes(sql, 1_000)).filter((n) => n.startsWith('m')), ['m1', 'm2']);
  // m2's last heartbeat 5 s ago by the database's clock: dead for a 1 s TTL, live for a 10 s one
  await sql.unsafe("update flashq_nodes set heartbeat_at = now() - interval '5 seconds' where node_id = 'm2'");
  assert.deepEqual((await liveNodes(sql, 1_000)).filter((n) => n.startsWith('m')), ['m1']);
  assert.deepEqual((await liveNodes(sql, 10_000)).filter((n) => n.startsWith('m')), ['m1', 'm2']);
  assert.equal(await heartbeat(sql, 'm2', 'inc-2'), 'ok');
  assert.deepEqual((await liveNodes(sql, 1_000)).filter((n) => n.startsWith('m')), ['m1', 'm2'], 'a heartbeat revives it');
  const listed = (await listNodes(sql, 1_000)).find((n) => n.nodeId === 'm1')!;
  assert.equal(listed.host, '10.0.0.1');
  assert.equal(listed.clusterPort, 6792);
  assert.equal(listed.live, true);

  await join(sql, addr, 'inc-1b'); // m1 started again elsewhere with the same NODE_ID
  assert.equal(await heartbeat(sql, 'm1', 'inc-1'), 'displaced');
  await leave(sql, 'm1', 'inc-1'); // the displaced process cannot deregister its successor
  assert.equal(await heartbeat(sql, 'm1', 'inc-1b'), 'ok');
  await leave(sql, 'm1', 'inc-1b');
  assert.equal(await heartbeat(sql, 'm1', 'inc-1b'), 'missing');
  await leave(sql, 'm2', 'inc-2');
});

test('leadership: one holder; renewal only by owner and term; a takeover after expiry raises the term', { skip: NO_PG }, async () => {
  const t1 = await claimLeadership(sql, 'a', 300);
  assert.ok(t1 !== null);
  assert.equal(await claimLeadership(sql, 'b', 300), null, 'a live lease is not taken');
  assert.equal(await renewLeadership(sql, 'b', t1, 300), false);
  assert.equal(await renewLeadership(sql, 'a', t1 + 1, 300), false, 'the term must match');
  assert.equal(await renewLeadership(sql, 'a', t1, 300), true);
  assert.deepEqual(await currentLeader(sql), { owner: 'a', term: t1 });
  await sql.unsafe("update flashq_leader set expires_at = now() - interval '1 millisecond'");
  assert.deepEqual(await currentLeader(sql), { owner: null, term: t1 });
  const t2 = await claimLeadership(sql, 'b', 300);
  assert.equal(t2, t1 + 1);
  assert.equal(await renewLeadership(sql, 'a', t1, 300), false, 'the deposed leader cannot renew');
  assert.equal(await writeAssignment(sql, 'a', t1, new Array(PARTITIONS).fill('a')), null, 'nor assign');
  assert.equal(await writeAssignment(sql, 'b', t2!, new Array(PARTITIONS).fill(null)), 0);
  await resignLeadership(sql, 'b', t2!);
  assert.equal(await claimLeadership(sql, 'a', 300), t2! + 1, 'a resigned lease is free at once');
  await resignLeadership(sql, 'a', t2! + 1);
});

test('partition leases: taken when assigned and free, epoch raised at each takeover, renewed and released only at the held epoch', { skip: NO_PG }, async () => {
  await assignTo('x', [10, 11]);
  const got = await acquireAssigned(sql, 'x', 10_000, []);
  assert.deepEqual(got.map((h) => h.partition), [10, 11]);
  const e10 = got[0]!.epoch;
  assert.deepEqual(await acquireAssigned(sql, 'x', 10_000, [10, 11]), [], 'held partitions are not taken again');

  await assignTo('y', [10]);
  assert.deepEqual(await acquireAssigned(sql, 'y', 10_000, []), [], 'a live lease is not taken, even when assigned elsewhere');
  const renewed = await renewHeld(sql, 'x', 10_000, got);
  assert.deepEqual(renewed.map((r) => [r.partition, r.assignedTo]), [[10, 'y'], [11, 'x']], 'the holder learns of the move');
  await releaseHeld(sql, 'x', [{ partition: 10, epoch: e10 }]);
  const y = await acquireAssigned(sql, 'y', 10_000, []);
  assert.deepEqual(y, [{ partition: 10, epoch: e10 + 1 }]);
  assert.deepEqual((await renewHeld(sql, 'x', 10_000, got)).map((r) => r.partition), [11], 'a stale epoch renews nothing');
  await releaseHeld(sql, 'x', [{ partition: 10, epoch: e10 }]);
  assert.equal((await readPartitions(sql))[10]!.owner, 'y', 'a stale release changes nothing');

  // an expired lease is taken without its holder's consent
  await assignTo('x', [10]);
  await expire(10);
  assert.deepEqual(await acquireAssigned(sql, 'x', 10_000, [11]), [{ partition: 10, epoch: e10 + 2 }]);
  // an earlier incarnation's lease (same node id, not held by this process) is taken back at once
  assert.deepEqual(await acquireAssigned(sql, 'x', 10_000, [10]), [{ partition: 11, epoch: got[1]!.epoch + 1 }]);
  await releaseHeld(sql, 'x', [{ partition: 10, epoch: e10 + 2 }, { partition: 11, epoch: got[1]!.epoch + 1 }]);
  await assignTo(null, [10, 11]);
});

test('fencing: a commit at the held epoch passes; after a takeover it is refused and rolled back', { skip: NO_PG }, async () => {
  await assignTo('f1', [20, 21]);
  const [h20, h21] = await acquireAssigned(sql, 'f1', 10_000, []);
  await sql.begin(async (tx) => {
    await assertHolds(tx, 'f1', [h20!, h21!]);
    await tx.unsafe("insert into probe values ('f1-ok')");
  });
  await assignTo('f2', [21]);
  await expire(21);
  assert.deepEqual(await acquireAssigned(sql, 'f2', 10_000, []), [{ partition: 21, epoch: h21!.epoch + 1 }]);
  await assert.rejects(
    sql.begin(async (tx) => {
      await tx.unsafe("insert into probe values ('f1-stale')");
      await assertHolds(tx, 'f1', [h20!, h21!]);
    }),
    (e: unknown) => e instanceof FencedError && /partition 21: held epoch \d+, now owner f2 epoch \d+/.test(e.message),
  );
  assert.deepEqual(await probeTags(), ['f1-ok'], 'the refused commit left nothing');
  await assert.rejects(
    sql.begin((tx) => assertHolds(tx, 'f1', [{ partition: 20, epoch: h20!.epoch - 1 }])),
    FencedError,
    'an older epoch of a partition held again is refused too',
  );
  await releaseHeld(sql, 'f1', [h20!]);
  await releaseHeld(sql, 'f2', [{ partition: 21, epoch: h21!.epoch + 1 }]);
  await assignTo(null, [20, 21]);
  await sql.unsafe('delete from probe');
});

test('fencing: a takeover waits for a commit that passed the fence, and a commit waits for a takeover in progress', { skip: NO_PG }, async () => {
  const a = conn('fence a');
  const b = conn('fence b');
  try {
    await assignTo('a', [30]);
    const [held] = await acquireAssigned(a, 'a', 10_000, []);
    await assignTo('b', [30]);
    await expire(30);

    // 1. a's commit has passed the fence and is still open: b cannot take the partition meanwhile
    const gate = latch();
    const passed = latch();
    const commitA = a.begin(async (tx) => {
      await assertHolds(tx, 'a', [held!]);
      passed.open();
      await gate.opened;
      await tx.unsafe("insert into probe values ('a-before-takeover')");
    });
    await passed.opened;
    assert.deepEqual(await acquireAssigned(b, 'b', 10_000, []), [], 'skipped while a commit holds the fence');
    gate.open();
    await commitA;
    const [taken] = await acquireAssigned(b, 'b', 10_000, []);
    assert.equal(taken!.epoch, held!.epoch + 1);

    // 2. the other order: a takeover (by a) is in progress when b's commit fences; b waits, then is refused
    await assignTo('a', [30]);
    await expire(30);
    const finish = latch();
    const locked = latch();
    const takeover = a.begin(async (tx) => {
      await tx.unsafe('select 1 from flashq_partitions where partition = 30 for update');
      await tx.unsafe("update flashq_partitions set owner = 'a', epoch = epoch + 1, expires_at = now() + interval '10 seconds' where partition = 30");
      locked.open();
      await finish.opened;
    });
    await locked.opened;
    let settled = false;
    const commitB = b
      .begin(async (tx) => {
        await assertHolds(tx, 'b', [taken!]);
        await tx.unsafe("insert into probe values ('b-stale')");
      })
      .finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(settled, false, 'the fence waits for the takeover to finish');
    finish.open();
    await takeover;
    await assert.rejects(commitB, FencedError);
    assert.deepEqual(await probeTags(), ['a-before-takeover']);
  } finally {
    await sql.unsafe('delete from probe');
    await sql.unsafe("update flashq_partitions set owner = null, assigned_to = null, expires_at = '-infinity' where partition = 30");
    await Promise.all([a.end({ timeout: 1 }), b.end({ timeout: 1 })]);
  }
});

test('fencing: a commit left idle past the bound loses its locks, so a frozen node cannot hold a takeover back', { skip: NO_PG }, async () => {
  const a = conn('fence idle');
  try {
    await assignTo('a', [40]);
    const [held] = await acquireAssigned(a, 'a', 10_000, []);
    await assignTo('b', [40]);
    await expire(40);
    const stalled = a.begin(async (tx) => {
      await assertHolds(tx, 'a', [held!], 300);
      await new Promise((r) => setTimeout(r, 1_500)); // the node stalls mid-transaction
      await tx.unsafe("insert into probe values ('a-stalled')");
    });
    stalled.catch(() => {});
    const started = Date.now();
    const taken = await (async () => {
      for (;;) {
        const got = await acquireAssigned(sql, 'b', 10_000, []);
        if (got.length > 0) return got;
        if (Date.now() - started > 5_000) throw new Error('the takeover stayed blocked');
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    assert.equal(taken[0]!.epoch, held!.epoch + 1);
    assert.ok(Date.now() - started < 1_400, 'taken before the stalled transaction would have resumed');
    await assert.rejects(stalled);
    assert.deepEqual(await probeTags(), []);
  } finally {
    await sql.unsafe("update flashq_partitions set owner = null, assigned_to = null, expires_at = '-infinity' where partition = 40");
    await a.end({ timeout: 1 });
  }
});
