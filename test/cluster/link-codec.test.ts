import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mismatch, newNonce, proofMatches, proofOf, readHello, writeHello, writeWelcome } from '../../src/cluster/link/auth.js';
import { NODE_WIDE, Rec, RecordReader, RecordWriter, type RecordSink } from '../../src/cluster/link/codec.js';
import { Inflight } from '../../src/cluster/link/inflight.js';
import { prng } from '../helpers/prng.js';

type Decoded =
  | { t: 'request'; type: number; kind: number; format: number; target: number; conn: number; seq: number; payload: string }
  | { t: 'answer'; conn: number; seq: number; code: number; bytes: string }
  | { t: 'event'; type: number; json: string; queue: string }
  | { t: 'control'; type: number; body: string };

/** Collects what a reader hands out, copying the views (they are valid during the chunk only). */
class Collect implements RecordSink {
  got: Decoded[] = [];
  corruptions: string[] = [];
  chunks = 0;
  request(type: Rec, kind: number, format: number, target: number, conn: number, seq: number, buf: Buffer, s: number, e: number): void {
    this.got.push({ t: 'request', type, kind, format, target, conn, seq, payload: buf.toString('utf8', s, e) });
  }
  answer(conn: number, seq: number, code: number, buf: Buffer, s: number, e: number): void {
    this.got.push({ t: 'answer', conn, seq, code, bytes: buf.toString('utf8', s, e) });
  }
  event(type: number, buf: Buffer, s: number, e: number, qs: number, qe: number): void {
    this.got.push({ t: 'event', type, json: buf.toString('utf8', s, e), queue: buf.toString('utf8', qs, qe) });
  }
  control(type: Rec, buf: Buffer, s: number, e: number): void {
    this.got.push({ t: 'control', type, body: buf.toString('hex', s, e) });
  }
  corrupt(reason: string): void {
    this.corruptions.push(reason);
  }
  endChunk(): void {
    this.chunks++;
  }
}

/** A turn of every record kind, and what decoding it must give (written independently of the codec). */
function sample(): { bytes: Buffer; want: Decoded[] } {
  const w = new RecordWriter(16); // small on purpose: the writer grows
  const want: Decoded[] = [];
  const json = '{"cmd":"PUSH","queue":"émails","data":{"x":"ü"}}';
  w.request(Rec.REQUEST, 1, 0, 17, 0xfffffffe, 7, json);
  want.push({ t: 'request', type: Rec.REQUEST, kind: 1, format: 0, target: 17, conn: 0xfffffffe, seq: 7, payload: json });
  w.request(Rec.REQUEST, 5, 4, NODE_WIDE, 3, 0xffffffff, Buffer.from('{"cmd":"STATS"}'));
  want.push({ t: 'request', type: Rec.REQUEST, kind: 5, format: 4, target: NODE_WIDE, conn: 3, seq: 0xffffffff, payload: '{"cmd":"STATS"}' });
  w.request(Rec.CONN_CLOSED, 3, 4, 200, 9, 0, '');
  want.push({ t: 'request', type: Rec.CONN_CLOSED, kind: 3, format: 4, target: 200, conn: 9, seq: 0, payload: '' });
  w.answer(3, 12, 9, Buffer.from('{"ok":false,"error":"x"}\n'));
  want.push({ t: 'answer', conn: 3, seq: 12, code: 9, bytes: '{"ok":false,"error":"x"}\n' });
  w.answer(4, 0, 0, new Uint8Array(0));
  want.push({ t: 'answer', conn: 4, seq: 0, code: 0, bytes: '' });
  const ev = Buffer.from('xx{"event":"job.pushed","queue":"q-1","id":5}yy');
  const start = 2;
  const end = ev.length - 2;
  const qs = ev.indexOf('q-1');
  w.event(2, ev, start, end, qs, qs + 3);
  want.push({ t: 'event', type: 2, json: ev.toString('utf8', start, end), queue: 'q-1' });
  w.control(Rec.SUBSCRIBE, Buffer.from([1]));
  want.push({ t: 'control', type: Rec.SUBSCRIBE, body: '01' });
  w.control(Rec.GOODBYE, Buffer.from('bye'));
  want.push({ t: 'control', type: Rec.GOODBYE, body: Buffer.from('bye').toString('hex') });
  return { bytes: w.take()!, want };
}

test('the codec decodes what it encodes, in one chunk', () => {
  const { bytes, want } = sample();
  const c = new Collect();
  new RecordReader().push(bytes, c);
  assert.deepEqual(c.got, want);
  assert.deepEqual(c.corruptions, []);
  assert.equal(c.chunks, 1);
});

test('the codec decodes a turn cut at every byte boundary, and cut into single bytes', () => {
  const { bytes, want } = sample();
  for (let cut = 0; cut <= bytes.length; cut++) {
    const c = new Collect();
    const r = new RecordReader();
    r.push(bytes.subarray(0, cut), c);
    r.push(bytes.subarray(cut), c);
    assert.deepEqual(c.got, want, `cut at ${cut}`);
  }
  for (let cut = 1; cut < bytes.length; cut++) {
    // three pieces: both cuts move, the middle piece may hold a record's end and the next one's head
    const c = new Collect();
    const r = new RecordReader();
    const second = Math.min(bytes.length, cut + 7);
    r.push(bytes.subarray(0, cut), c);
    r.push(bytes.subarray(cut, second), c);
    r.push(bytes.subarray(second), c);
    assert.deepEqual(c.got, want, `cuts at ${cut} and ${second}`);
  }
  const c = new Collect();
  const r = new RecordReader();
  for (let i = 0; i < bytes.length; i++) r.push(bytes.subarray(i, i + 1), c);
  assert.deepEqual(c.got, want);
});

test('random turns survive random chunking', () => {
  const rnd = prng(13);
  for (let round = 0; round < 50; round++) {
    const w = new RecordWriter(64);
    const want: Decoded[] = [];
    const n = 1 + Math.floor(rnd() * 40);
    for (let i = 0; i < n; i++) {
      const size = Math.floor(rnd() * (rnd() < 0.1 ? 70_000 : 100));
      const text = 'p'.repeat(size);
      if (rnd() < 0.5) {
        const conn = Math.floor(rnd() * 0xffffffff);
        w.request(Rec.REQUEST, 1, 0, i, conn, i, text);
        want.push({ t: 'request', type: Rec.REQUEST, kind: 1, format: 0, target: i, conn, seq: i, payload: text });
      } else {
        w.answer(i, i * 3, i % 13, Buffer.from(text));
        want.push({ t: 'answer', conn: i, seq: i * 3, code: i % 13, bytes: text });
      }
    }
    const bytes = w.take()!;
    const c = new Collect();
    const r = new RecordReader();
    let pos = 0;
    while (pos < bytes.length) {
      const step = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 16 : 20_000));
      r.push(bytes.subarray(pos, pos + step), c);
      pos += step;
    }
    assert.deepEqual(c.got, want, `round ${round}`);
  }
});

test('a record over the limit, an unknown type or a short record kills the stream with a reason', () => {
  const big = new RecordWriter();
  big.answer(1, 1, 0, Buffer.alloc(2000));
  big.answer(1, 2, 0, Buffer.alloc(1));
  const c = new Collect();
  const r = new RecordReader(1000);
  r.push(big.take()!, c);
  assert.equal(c.got.length, 0, 'nothing after the oversized record is read');
  assert.match(c.corruptions[0]!, /record of 2011 bytes over the link's limit of 1000/);
  // dead: later bytes are ignored
  const ok = new RecordWriter();
  ok.answer(1, 3, 0, Buffer.from('x'));
  r.push(ok.take()!, c);
  assert.equal(c.got.length, 0);

  // the limit also holds when only the length prefix has arrived (cut inside it)
  const c2 = new Collect();
  const r2 = new RecordReader(1000);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(5_000_000);
  r2.push(head.subarray(0, 2), c2);
  r2.push(head.subarray(2), c2);
  assert.equal(c2.corruptions.length, 1);

  const unknown = Buffer.from([1, 0, 0, 0, 99]);
  const c3 = new Collect();
  new RecordReader().push(unknown, c3);
  assert.match(c3.corruptions[0]!, /unknown record type 99/);

  const short = Buffer.from([3, 0, 0, 0, Rec.ANSWER, 0, 0]);
  const c4 = new Collect();
  new RecordReader().push(short, c4);
  assert.match(c4.corruptions[0]!, /shorter than its fields/);

  const zero = Buffer.from([0, 0, 0, 0]);
  const c5 = new Collect();
  new RecordReader().push(zero, c5);
  assert.match(c5.corruptions[0]!, /empty record/);
});

test('hello and welcome round trip; proofs bind both nonces, both ids and the role', () => {
  const w = new RecordWriter();
  const n1 = newNonce();
  writeHello(w, 'secret-secret-secret', n1, 'node-a', 'node-b');
  const n2 = newNonce();
  const proof = proofOf('secret-secret-secret', 'owner', n1, n2, 'node-a', 'node-b');
  writeWelcome(w, 'secret-secret-secret', n2, 'node-b', proof);
  const c = new Collect();
  const bodies: Array<{ type: Rec; body: Buffer }> = [];
  new RecordReader().push(w.take()!, {
    ...c,
    request: () => assert.fail(),
    answer: () => assert.fail(),
    event: () => assert.fail(),
    corrupt: (r) => assert.fail(r),
    endChunk: () => {},
    control: (type, buf, s, e) => bodies.push({ type, body: Buffer.from(buf.subarray(s, e)) }),
  });
  const hello = readHello(Rec.HELLO, bodies[0]!.body, 0, bodies[0]!.body.length)!;
  assert.equal(hello.nodeId, 'node-a');
  assert.equal(hello.expect, 'node-b');
  assert.ok(hello.secret);
  assert.ok(hello.nonce.equals(n1));
  const welcome = readHello(Rec.WELCOME, bodies[1]!.body, 0, bodies[1]!.body.length)!;
  assert.equal(welcome.nodeId, 'node-b');
  assert.ok(welcome.nonce.equals(n2));
  assert.ok(proofMatches(welcome.proof, proof));
  assert.equal(mismatch('secret-secret-secret', 'node-b', hello), null);
  assert.match(mismatch(null, 'node-b', hello)!, /node node-a authenticates with CLUSTER_SECRET, node node-b has none/);
  // every input changes the proof
  const variants = [
    proofOf('secret-secret-secreT', 'owner', n1, n2, 'node-a', 'node-b'),
    proofOf('secret-secret-secret', 'origin', n1, n2, 'node-a', 'node-b'),
    proofOf('secret-secret-secret', 'owner', n2, n1, 'node-a', 'node-b'),
    proofOf('secret-secret-secret', 'owner', n1, n2, 'node-b', 'node-a'),
    proofOf('secret-secret-secret', 'owner', n1, newNonce(), 'node-a', 'node-b'),
  ];
  for (const v of variants) assert.equal(proofMatches(v, proof), false);
  assert.equal(proofMatches(proof.subarray(0, 16), proof), false);
});

test('the in-flight table: slots by index, growth, draining and forgetting closed connections', () => {
  const t = new Inflight(4);
  const slots = new Map<number, number>();
  for (let i = 0; i < 10; i++) slots.set(i, t.add(100 + (i % 3), i, i % 5));
  assert.equal(t.count, 10);
  assert.ok(t.capacity >= 10);
  assert.equal(new Set(slots.values()).size, 10, 'distinct slots');
  assert.equal(t.take(slots.get(4)!, 101), 4);
  assert.equal(t.take(slots.get(4)!, 101), -1, 'a slot is taken once');
  assert.equal(t.take(slots.get(5)!, 999), -1, 'another connection cannot take it');
  assert.equal(t.take(1 << 20, 100), -1);
  t.forget(new Set([100]));
  // conn 100 had i = 0, 3, 6, 9
  assert.equal(t.count, 5);
  const drained: Array<[number, number, number]> = [];
  t.drain((conn, seq, format) => drained.push([conn, seq, format]));
  drained.sort((a, b) => a[1] - b[1]);
  assert.deepEqual(drained, [1, 2, 5, 7, 8].map((i) => [100 + (i % 3), i, i % 5]));
  assert.equal(t.count, 0);
  const again = t.add(7, 7, 0);
  assert.equal(t.take(again, 7), 7);
});
