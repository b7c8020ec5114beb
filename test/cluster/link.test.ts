import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { NODE_WIDE } from '../../src/cluster/link/codec.js';
import { PeerClient } from '../../src/cluster/link/peer-client.js';
import { Dispatcher } from '../../src/front/dispatcher.js';
import { partitionOf } from '../../src/engine/partition.js';
import { Format } from '../../src/protocol/result.js';
import { Kind } from '../../src/ring/kinds.js';
import { pair, Recorder, send, SECRET, waitFor, type Pair } from './link-node.js';

const open: Pair[] = [];
after(async () => {
  for (const p of open) await p.close();
});

async function started(...args: Parameters<typeof pair>): Promise<Pair> {
  const p = await pair(...args);
  open.push(p);
  p.client.start();
  return p;
}

const parse = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

/** Log lines written while `fn` runs (the structured logs go to stdout). */
async function captureLogs<T>(fn: () => Promise<T>): Promise<{ value: T; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const l of text.split('\n')) {
      if (l.startsWith('{"t":')) lines.push(JSON.parse(l) as Record<string, unknown>);
    }
    return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    return { value: await fn(), lines };
  } finally {
    process.stdout.write = write;
  }
}

/** A TCP relay between origin and owner that the test can cut, as a failing network would. */
async function relay(backend: number): Promise<{ port: number; cut(): void; hold(on: boolean): void; accepted: number; close(): Promise<void> }> {
  const pipes = new Set<Socket>();
  const upstream = new Map<Socket, Socket>();
  let accepted = 0;
  const server = createServer((a) => {
    accepted++;
    const b = connect(backend, '127.0.0.1');
    pipes.add(a).add(b);
    upstream.set(a, b);
    a.pipe(b).pipe(a);
    const end = () => {
      a.destroy();
      b.destroy();
      pipes.delete(a);
      pipes.delete(b);
    };
    a.on('error', end).on('close', end);
    b.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut: () => {
      for (const s of pipes) s.destroy();
    },
    /** stop (or resume) reading what the origin sends, as a stalled owner would */
    hold: (on: boolean) => {
      for (const [a, b] of upstream) {
        if (on) {
          a.unpipe(b);
          a.pause();
        } else a.pipe(b);
      }
    },
    close: () =>
      new Promise((r) => {
        for (const s of pipes) s.destroy();
        server.close(() => r());
      }),
  };
}

test('requests go through the link to a real engine and come back as the local node answers them', async () => {
  const p = await started();
  await waitFor(() => p.client.connected, 10_000, 'the link');
  send(p.client, 1, 1, { cmd: 'PUSH', queue: 'emails', data: { to: 'a@b' } });
  await p.out.until(() => p.out.answers.length === 1);
  const pushed = parse(p.out.answers[0]!.text);
  assert.equal(p.out.answers[0]!.seq, 1);
  assert.equal(p.out.answers[0]!.code, 0);
  assert.equal(pushed.ok, true);
  const id = pushed.id as number;
  assert.equal(id % 256, partitionOf('emails'), 'the id names the partition');

  send(p.client, 1, 2, { cmd: 'PULL', queue: 'emails', timeout: 0 });
  await p.out.until(() => p.out.answers.length === 2);
  const pulled = parse(p.out.answers[1]!.text);
  assert.equal((pulled.job as { id: number }).id, id);
  assert.deepEqual((pulled.job as { data: unknown }).data, { to: 'a@b' });

  send(p.client, 1, 3, { cmd: 'ACK', id, result: { sent: true } });
  await p.out.until(() => p.out.answers.length === 3);
  assert.equal(parse(p.out.answers[2]!.text).ok, true);
  // checked against the owner itself, not through the link
  const state = (await p.owner.ask(JSON.stringify({ cmd: 'GETSTATE', id }))) as { state: string };
  assert.equal(state.state, 'completed');

  // errors are the owner's, in the request's format, reqId echoed
  send(p.client, 1, 4, { cmd: 'ACK', id: 999 * 256 + 3, reqId: 'r-4' });
  await p.out.until(() => p.out.answers.length === 4);
  const err = parse(p.out.answers[3]!.text);
  assert.equal(err.ok, false);
  assert.equal(err.reqId, 'r-4');
  assert.notEqual(p.out.answers[3]!.code, 0);
});

test('a PeerClient target is a ShardLink to a real Dispatcher on the origin side', async () => {
  const p = await started();
  // the origin node: its Dispatcher's only link is partition p of the peer
  const origin = new Dispatcher(1);
  const out = {
    answer: (c: number, s: number, code: number, b: Uint8Array) => origin.answer(c, s, code, b),
    remoteEvent: () => {},
    turnDone: () => origin.turnDone(),
  };
  const client = new PeerClient({ nodeId: 'node-a', peerId: 'node-b', host: '127.0.0.1', port: p.port, secret: SECRET, tls: null, output: out });
  client.start();
  origin.attach([client.target(partitionOf('orders'))]);
  const got: Array<{ seq: number; text: string }> = [];
  const conn = origin.allocConn({ deliver: (seq, _code, bytes) => got.push({ seq, text: Buffer.from(bytes).toString('utf8') }), flushOut: () => {} });
  for (let i = 0; i < 20; i++) origin.send(0, Kind.REQUEST, Format.TcpJson, conn, i + 1, JSON.stringify({ cmd: 'PUSH', queue: 'orders', data: { i } }));
  await waitFor(() => got.length === 20, 10_000, '20 answers');
  assert.deepEqual(got.map((g) => g.seq), Array.from({ length: 20 }, (_, i) => i + 1));
  const ids = got.map((g) => parse(g.text).id as number);
  assert.equal(new Set(ids).size, 20);
  const waiting = (await p.owner.ask(JSON.stringify({ cmd: 'PULLB', queue: 'orders', count: 100, timeout: 0 }))) as { jobs: Array<{ id: number }> };
  assert.deepEqual(waiting.jobs.map((j) => j.id).sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
  await client.close();
});

test('1000 pipelined requests: every one answered once, in order, with the same answers the node gives directly', async () => {
  const p = await started();
  await waitFor(() => p.client.connected);
  const link = p.client.target(partitionOf('bulk'));
  for (let i = 1; i <= 1000; i++) link.add(Kind.REQUEST, Format.TcpJson, 7, i, JSON.stringify({ cmd: 'PUSH', queue: 'bulk', data: { i } }));
  link.flush();
  assert.equal(p.client.pending, 1000, 'all in flight at once');
  await p.out.until(() => p.out.answers.length === 1000);
  assert.deepEqual(p.out.answers.map((a) => a.seq), Array.from({ length: 1000 }, (_, i) => i + 1), 'in request order');
  const ids = p.out.answers.map((a) => parse(a.text).id as number);
  assert.equal(new Set(ids).size, 1000);
  assert.equal(p.client.pending, 0);
  // the jobs are there, with their data, as the owner reports them directly
  for (const k of [0, 499, 999]) {
    const job = (await p.owner.ask(JSON.stringify({ cmd: 'GETJOB', id: ids[k] }))) as { job: { data: { i: number } } };
    assert.equal(job.job.data.i, k + 1);
  }
});

test('a blocking PULL is answered later while other answers pass it', async () => {
  const p = await started();
  await waitFor(() => p.client.connected);
  send(p.client, 1, 1, { cmd: 'PULL', queue: 'slow', timeout: 20_000 });
  for (let i = 0; i < 5; i++) send(p.client, 2, i + 1, { cmd: 'PUSH', queue: 'fast', data: { i } });
  await p.out.until(() => p.out.of(2).length === 5);
  assert.equal(p.out.of(1).length, 0, 'the PULL still waits');
  send(p.client, 2, 6, { cmd: 'PUSH', queue: 'slow', data: { wake: true } });
  await p.out.until(() => p.out.of(1).length === 1);
  const job = parse(p.out.of(1)[0]!.text).job as { data: unknown };
  assert.deepEqual(job.data, { wake: true });
});

test('CONN_CLOSED fails back the jobs pulled through that connection ("worker connection lost")', async () => {
  const p = await started();
  await waitFor(() => p.client.connected);
  send(p.client, 5, 1, { cmd: 'PUSH', queue: 'leases', data: {}, max_attempts: 3 });
  send(p.client, 5, 2, { cmd: 'PULL', queue: 'leases', timeout: 0 });
  await p.out.until(() => p.out.of(5).length === 2);
  const id = (parse(p.out.of(5)[1]!.text).job as { id: number }).id;
  assert.equal(((await p.owner.ask(JSON.stringify({ cmd: 'GETSTATE', id }))) as { state: string }).state, 'active');
  const link = p.client.target(partitionOf('leases'));
  link.add(Kind.CONN_CLOSED, Format.Internal, 5, 0, '');
  link.flush();
  await waitFor(() => p.owner.closedConns.length === 1, 10_000, 'the owner to see the close');
  assert.deepEqual(p.owner.closedConns[0]!.shards, [0]);
  const view = (await p.owner.ask(JSON.stringify({ cmd: 'GETJOB', id }))) as { state: string; job: { attempts: number } };
  assert.notEqual(view.state, 'active');
  assert.equal(view.job.attempts, 1);
  assert.match(JSON.stringify(view), /worker connection lost/);
});

test('a released connection is forgotten by the owner and keeps its leases; a closed one fails them back', async () => {
  const p = await started();
  await waitFor(() => p.client.connected);
  send(p.client, 20, 1, { cmd: 'PUSH', queue: 'http-like', data: {} });
  send(p.client, 20, 2, { cmd: 'PULL', queue: 'http-like', timeout: 0 });
  send(p.client, 21, 1, { cmd: 'PUSH', queue: 'other', data: {} });
  await p.out.until(() => p.out.answers.length === 3);
  assert.equal(p.server.originConnections, 2);
  const id = (parse(p.out.of(20)[1]!.text).job as { id: number }).id;
  p.client.release(20);
  p.client.release(999); // never came here: nothing is sent
  await waitFor(() => p.server.originConnections === 1, 10_000, 'the owner to forget conn 20');
  assert.equal(p.owner.closedConns.length, 0, 'a release fails nothing back');
  assert.equal(((await p.owner.ask(JSON.stringify({ cmd: 'GETSTATE', id }))) as { state: string }).state, 'active');
  // a close after the release has nothing left to close
  const link = p.client.target(partitionOf('http-like'));
  link.add(Kind.CONN_CLOSED, Format.Internal, 20, 0, '');
  link.flush();
  // conn 21 closes for real: the owner hears it
  p.client.target(partitionOf('other')).add(Kind.CONN_CLOSED, Format.Internal, 21, 0, '');
  p.client.target(partitionOf('other')).flush();
  await waitFor(() => p.server.originConnections === 0 && p.owner.closedConns.length === 1);
  assert.equal(((await p.owner.ask(JSON.stringify({ cmd: 'GETSTATE', id }))) as { state: string }).state, 'active');
});

test('the link cut mid-flight answers every pending request with the error, the owner fails back their leases, and the link comes back', async () => {
  const owner = await pair();
  open.push(owner);
  const net = await relay(owner.port);
  const out = new Recorder();
  const client = new PeerClient({ nodeId: 'node-a', peerId: 'node-b', host: '127.0.0.1', port: net.port, secret: SECRET, tls: null, output: out, backoffMinMs: 20, backoffMaxMs: 200 });
  client.start();
  try {
    await waitFor(() => client.connected);
    send(client, 9, 1, { cmd: 'PUSH', queue: 'held', data: {} });
    send(client, 9, 2, { cmd: 'PULL', queue: 'held', timeout: 0 });
    await out.until(() => out.answers.length === 2);
    const leased = (parse(out.answers[1]!.text).job as { id: number }).id;
    for (let i = 0; i < 50; i++) send(client, 10 + (i % 5), 100 + i, { cmd: 'PULL', queue: `empty-${i % 7}`, timeout: 30_000, reqId: i });
    await waitFor(() => client.pending === 50);
    // the owner has them all parked before the cut
    await waitFor(() => owner.owner.dispatcher.links.length === 1 && owner.server.sessionCount === 1);
    net.cut();
    await out.until(() => out.answers.length === 52, 10_000, 'every pending PULL answered');
    for (const a of out.answers.slice(2)) {
      assert.equal(a.code, 9, 'Storage unavailable');
      const body = parse(a.text);
      assert.equal(body.ok, false);
      assert.match(body.error as string, /^Storage unavailable: cluster link to node node-b \(127\.0\.0\.1:\d+\) lost: /);
    }
    assert.equal(client.pending, 0);
    // requests flushed while the link is down are answered at once too
    send(client, 11, 500, { cmd: 'PUSH', queue: 'down', data: {} });
    if (!client.connected) {
      await out.until(() => out.answers.length === 53);
      assert.equal(out.answers[52]!.code, 9);
    }
    // the owner saw the session close: conn 9's lease went back
    await waitFor(() => owner.owner.closedConns.some((c) => c.shards.length > 0));
    const view = (await owner.owner.ask(JSON.stringify({ cmd: 'GETJOB', id: leased }))) as { state: string };
    assert.notEqual(view.state, 'active');
    // and the link reconnects through the same relay
    await waitFor(() => client.connected, 10_000, 'reconnect');
    assert.ok(net.accepted >= 2);
    const before = out.answers.length;
    send(client, 12, 1, { cmd: 'PUSH', queue: 'after', data: {} });
    await out.until(() => out.answers.length === before + 1);
    assert.equal(parse(out.answers[before]!.text).ok, true);
  } finally {
    await client.close();
    await net.close();
  }
});

test('flush reports a full socket past the high-water mark and onDrain fires once it drained', async () => {
  const owner = await pair();
  open.push(owner);
  const net = await relay(owner.port);
  const out = new Recorder();
  const client = new PeerClient({ nodeId: 'node-a', peerId: 'node-b', host: '127.0.0.1', port: net.port, secret: SECRET, tls: null, output: out, highWater: 64 * 1024 });
  client.start();
  try {
    await waitFor(() => client.connected);
    net.hold(true);
    const t1 = client.target(partitionOf('bp-1'));
    const t2 = client.target(partitionOf('bp-2'));
    let drained = 0;
    t1.onDrain = () => drained++;
    t2.onDrain = () => drained++;
    const blob = 'x'.repeat(8 * 1024);
    let full = false;
    let seq = 0;
    // kernel buffers absorb some: keep sending until the socket's own buffer passes the mark
    for (let turn = 0; turn < 2000 && !full; turn++) {
      for (let i = 0; i < 8; i++) t1.add(Kind.REQUEST, Format.TcpJson, 30, ++seq, JSON.stringify({ cmd: 'PUSH', queue: 'bp-1', data: { blob } }));
      t2.add(Kind.REQUEST, Format.TcpJson, 31, seq, JSON.stringify({ cmd: 'PUSH', queue: 'bp-2', data: {} }));
      full = !t1.flush();
      if (!full) await new Promise((r) => setImmediate(r));
    }
    assert.ok(full, 'the socket filled up');
    assert.equal(t2.flush(), false, 'every target of the peer shares the full socket');
    assert.equal(drained, 0);
    net.hold(false);
    await waitFor(() => drained === 2, 20_000, 'onDrain of both targets');
    assert.equal(t1.flush(), true);
    await out.until(() => out.answers.length === client.stats.forwarded, 30_000, 'every request answered');
    assert.ok(out.answers.every((a) => a.code === 0));
  } finally {
    await client.close();
    await net.close();
  }
});

test('auth: a wrong secret is refused and logged with the peer address; no secret on both ends works; one-sided secrets are refused', async () => {
  const p = await pair();
  open.push(p);
  const bad = new Recorder();
  const { lines } = await captureLogs(async () => {
    const c = new PeerClient({ nodeId: 'node-x', peerId: 'node-b', host: '127.0.0.1', port: p.port, secret: 'not-the-cluster-secret', tls: null, output: bad, backoffMinMs: 5_000 });
    c.start();
    send(c, 1, 1, { cmd: 'PUSH', queue: 'q', data: {} });
    await bad.until(() => bad.answers.length === 1, 10_000, 'the refused request');
    await waitFor(() => p.server.sessionCount === 0);
    assert.equal(c.connected, false);
    await c.close();
  });
  assert.equal(bad.answers[0]!.code, 9);
  assert.match(parse(bad.answers[0]!.text).error as string, /failed authentication/);
  const refused = lines.filter((l) => l.msg === 'cluster link refused');
  assert.ok(refused.length >= 1, JSON.stringify(lines));
  assert.ok(refused.some((l) => typeof l.peer === 'string' && /^127\.0\.0\.1:\d+$/.test(l.peer as string) || /127\.0\.0\.1/.test(String(l.peer))));
  // nothing reached the engine
  const none = (await p.owner.ask(JSON.stringify({ cmd: 'PULL', queue: 'q', timeout: 0 }))) as { job: unknown };
  assert.equal(none.job, null);

  const open2 = await started({ secret: null, nodeId: 'node-b' }, { secret: null });
  await waitFor(() => open2.client.connected);
  send(open2.client, 1, 1, { cmd: 'PUSH', queue: 'q', data: {} });
  await open2.out.until(() => open2.out.answers.length === 1);
  assert.equal(open2.out.answers[0]!.code, 0);

  const oneSided = new Recorder();
  const c2 = new PeerClient({ nodeId: 'node-y', peerId: '', host: '127.0.0.1', port: open2.port, secret: SECRET, tls: null, output: oneSided, backoffMinMs: 5_000 });
  const logs2 = await captureLogs(async () => {
    c2.start();
    send(c2, 1, 1, { cmd: 'PUSH', queue: 'q', data: {} });
    await oneSided.until(() => oneSided.answers.length === 1);
    await c2.close();
  });
  assert.match(parse(oneSided.answers[0]!.text).error as string, /node node-y authenticates with CLUSTER_SECRET, node node-b has none/);
  assert.ok(logs2.lines.some((l) => l.msg === 'cluster link refused'));

  // the origin insists on the node id it was told
  const wrongPeer = new Recorder();
  const c3 = new PeerClient({ nodeId: 'node-a', peerId: 'node-z', host: '127.0.0.1', port: p.port, secret: SECRET, tls: null, output: wrongPeer, backoffMinMs: 5_000 });
  await captureLogs(async () => {
    c3.start();
    send(c3, 1, 1, { cmd: 'PUSH', queue: 'q', data: {} });
    await wrongPeer.until(() => wrongPeer.answers.length === 1);
    await c3.close();
  });
  assert.match(parse(wrongPeer.answers[0]!.text).error as string, /expected node-z|not node-z/);
});

test('a record over the size limit closes the link cleanly; the link comes back; an origin refuses to send one', async () => {
  const p = await started({ maxRecord: 4096 }, { backoffMinMs: 20, backoffMaxMs: 100 });
  await waitFor(() => p.client.connected);
  send(p.client, 1, 1, { cmd: 'PULL', queue: 'wait', timeout: 30_000 });
  await waitFor(() => p.server.sessionCount === 1 && p.client.pending === 1);
  const { lines } = await captureLogs(async () => {
    send(p.client, 2, 1, { cmd: 'PUSH', queue: 'big', data: { blob: 'x'.repeat(10_000) } });
    await p.out.until(() => p.out.answers.length === 2, 10_000, 'both answered');
  });
  for (const a of p.out.answers) {
    assert.equal(a.code, 9);
    assert.match(parse(a.text).error as string, /over the link's limit of 4096/);
  }
  assert.ok(lines.some((l) => l.msg === 'cluster link refused' && /over the link's limit/.test(String(l.reason)) && /127\.0\.0\.1/.test(String(l.peer))));
  await waitFor(() => p.client.connected, 10_000, 'reconnect');
  send(p.client, 3, 1, { cmd: 'PUSH', queue: 'small', data: {} });
  await p.out.until(() => p.out.answers.length === 3);
  assert.equal(p.out.answers[2]!.code, 0);

  // with the limit on the origin, the request is refused before it leaves; the link stays up
  const q = await started({}, { maxRecord: 4096 });
  await waitFor(() => q.client.connected);
  send(q.client, 1, 1, { cmd: 'PUSH', queue: 'big', data: { blob: 'x'.repeat(10_000) } });
  send(q.client, 1, 2, { cmd: 'PUSH', queue: 'big', data: {} });
  await q.out.until(() => q.out.answers.length === 2);
  const [tooBig, fine] = [q.out.of(1).find((a) => a.seq === 1)!, q.out.of(1).find((a) => a.seq === 2)!];
  assert.equal(tooBig.code, 4);
  assert.match(parse(tooBig.text).error as string, /Payload too large/);
  assert.equal(fine.code, 0);
  assert.ok(q.client.connected);
});

test('before the handshake a peer cannot make the owner allocate a big record, nor hold a socket past the deadline', async () => {
  const p = await pair({ handshakeTimeoutMs: 300 });
  open.push(p);
  const { lines } = await captureLogs(async () => {
    const big = connect(p.port, '127.0.0.1');
    big.on('error', () => {});
    await new Promise<void>((r) => big.once('connect', () => r()));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(50 * 1024 * 1024);
    big.write(head);
    await new Promise<void>((r) => big.once('close', () => r()).resume());
    const silent = connect(p.port, '127.0.0.1');
    silent.on('error', () => {});
    await new Promise<void>((r) => silent.once('close', () => r()).resume());
  });
  assert.ok(lines.some((l) => l.msg === 'cluster link refused' && /record of 52428800 bytes over the link's limit of 1024/.test(String(l.reason))), JSON.stringify(lines));
  assert.ok(lines.some((l) => l.msg === 'cluster link refused' && /no handshake within 300 ms/.test(String(l.reason))));
  assert.equal(p.server.sessionCount, 0);
});

test('a partition this node does not serve is answered at once; node-wide requests are answered by the node', async () => {
  const p = await started();
  await waitFor(() => p.client.connected);
  p.owner.served.delete(partitionOf('elsewhere'));
  send(p.client, 1, 1, { cmd: 'PUSH', queue: 'elsewhere', data: {}, reqId: 'x1' });
  await p.out.until(() => p.out.answers.length === 1);
  const body = parse(p.out.answers[0]!.text);
  assert.equal(p.out.answers[0]!.code, 9);
  assert.equal(body.reqId, 'x1');
  assert.equal(body.error, `Storage unavailable: partition ${partitionOf('elsewhere')} is not served by node node-b`);

  send(p.client, 1, 2, { cmd: 'PUSH', queue: 'here', data: {} });
  send(p.client, 1, 3, { cmd: 'STATS' }, NODE_WIDE);
  await p.out.until(() => p.out.answers.length === 3);
  const stats = parse(p.out.answers.find((a) => a.seq === 3)!.text);
  const direct = (await p.owner.ask(JSON.stringify({ cmd: 'STATS' }))) as Record<string, unknown>;
  assert.deepEqual(stats, direct);
});

test('events stream to the origin only after it subscribed, and stop when it unsubscribes', async () => {
  const p = await started();
  await waitFor(() => p.client.connected);
  send(p.client, 1, 1, { cmd: 'PUSH', queue: 'ev', data: { n: 1 } });
  await p.out.until(() => p.out.answers.length === 1);
  assert.equal(p.owner.subscribers, 0, 'no subscription, no event production');
  assert.equal(p.out.events.length, 0);

  p.client.subscribe(true);
  await waitFor(() => p.owner.subscribers === 1, 10_000, 'the subscription');
  send(p.client, 1, 2, { cmd: 'PUSH', queue: 'ev', data: { n: 2 } });
  await p.out.until(() => p.out.events.length >= 1 && p.out.answers.length === 2);
  const ev = p.out.events[0]!;
  assert.equal(ev.queue, 'ev');
  const json = parse(ev.json);
  assert.equal(json.queue, 'ev');
  assert.equal(json.event ?? 'job.pushed', 'job.pushed');
  assert.equal(ev.type, 0, 'job.pushed is EVENT_TYPES[0]');

  p.client.subscribe(false);
  await waitFor(() => p.owner.subscribers === 0, 10_000, 'the unsubscription');
  const seen = p.out.events.length;
  send(p.client, 1, 3, { cmd: 'PUSH', queue: 'ev', data: { n: 3 } });
  await p.out.until(() => p.out.answers.length === 3);
  assert.equal(p.out.events.length, seen);
});
