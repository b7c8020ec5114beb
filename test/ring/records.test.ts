import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameBuilder, FrameReader, RECORD_HEADER_BYTES } from '../../src/ring/records.js';
import { Kind } from '../../src/ring/kinds.js';
import { SpscRing } from '../../src/ring/spsc-ring.js';

interface Rec {
  kind: number;
  format: number;
  code: number;
  conn: number;
  seq: number;
  payload: Uint8Array | string;
}

function readAll(frame: Uint8Array): { kind: number; format: number; code: number; conn: number; seq: number; bytes: Buffer; text: string }[] {
  const out = [];
  const r = new FrameReader().reset(frame);
  while (r.next()) {
    out.push({ kind: r.kind, format: r.format, code: r.code, conn: r.conn, seq: r.seq, bytes: Buffer.from(r.payload()), text: r.text() });
  }
  return out;
}

const samples: Rec[] = [
  { kind: Kind.REQUEST, format: 0, code: 0, conn: 0, seq: 0, payload: '' },
  { kind: Kind.ANSWER, format: 1, code: 65535, conn: 0xffffffff, seq: 0xfffffffe, payload: new Uint8Array(0) },
  { kind: Kind.CONN_CLOSED, format: 255, code: 258, conn: 123456789, seq: 1, payload: '{"cmd":"PUSH","queue":"q"}' },
  { kind: Kind.EVENT, format: 2, code: 7, conn: 42, seq: 2 ** 31, payload: 'héllo wörld — ☃ 😀 中文' },
  { kind: Kind.SHARD_MSG, format: 3, code: 1, conn: 1, seq: 3, payload: new Uint8Array([0, 1, 2, 254, 255]) },
  { kind: Kind.CONTROL, format: 0, code: 0, conn: 2 ** 31 + 5, seq: 4, payload: 'x'.repeat(10_000) },
];

test('records round-trip every header field, UTF-8 text, bytes and empty payloads', () => {
  const b = new FrameBuilder(64); // tiny on purpose: growth happens mid-frame
  for (const s of samples) b.add(s.kind, s.format, s.code, s.conn, s.seq, s.payload);
  assert.equal(b.count, samples.length);
  const frame = b.finish();
  assert.equal(b.byteLength, frame.length);
  const got = readAll(frame);
  assert.equal(got.length, samples.length);
  got.forEach((g, i) => {
    const s = samples[i]!;
    assert.deepEqual([g.kind, g.format, g.code, g.conn, g.seq], [s.kind, s.format, s.code, s.conn, s.seq]);
    const want = typeof s.payload === 'string' ? Buffer.from(s.payload, 'utf8') : Buffer.from(s.payload);
    assert.deepEqual(g.bytes, want);
    if (typeof s.payload === 'string') assert.equal(g.text, s.payload);
  });
});

test('the frame layout is the documented little-endian header', () => {
  const b = new FrameBuilder();
  b.add(1, 2, 0x0304, 0x05060708, 0x090a0b0c, new Uint8Array([0xee]));
  assert.deepEqual([...b.finish()], [1, 2, 4, 3, 8, 7, 6, 5, 0x0c, 0x0b, 0x0a, 0x09, 1, 0, 0, 0, 0xee]);
  assert.equal(RECORD_HEADER_BYTES, 16);
});

test('addHeader + appendPayload build a record in pieces, mixing text and bytes', () => {
  const b = new FrameBuilder(32);
  b.addHeader(Kind.ANSWER, 1, 0, 9, 10);
  b.appendPayload('{"ok":true,"id":');
  b.appendPayload(new Uint8Array([0x31, 0x32]));
  b.appendPayload('}');
  b.add(Kind.ANSWER, 1, 0, 9, 11, 'second');
  b.appendPayload('+more'); // extends the record just added
  b.addHeader(Kind.EVENT, 0, 0, 0, 12); // empty payload
  const got = readAll(b.finish());
  assert.deepEqual(got.map((g) => [g.seq, g.text]), [[10, '{"ok":true,"id":12}'], [11, 'second+more'], [12, '']]);
  b.finish();
  assert.throws(() => b.appendPayload('x'), /addHeader first/);
});

test('a builder is reused across frames after reset', () => {
  const b = new FrameBuilder(64);
  for (let round = 0; round < 5; round++) {
    b.reset();
    assert.equal(b.count, 0);
    assert.equal(b.byteLength, 0);
    for (let i = 0; i < 100 * round; i++) b.add(Kind.REQUEST, 0, 0, round, i, `job ${i} ✓`);
    const got = readAll(b.finish());
    assert.equal(got.length, 100 * round);
    got.forEach((g, i) => assert.deepEqual([g.conn, g.seq, g.text], [round, i, `job ${i} ✓`]));
  }
});

test('strings that need the exact-size path (over the 3-bytes-per-unit guess) are whole', () => {
  const b = new FrameBuilder(64);
  const big = '😀'.repeat(5000) + 'ü'.repeat(5000) + '\ud800'; // a lone surrogate becomes U+FFFD
  b.add(Kind.REQUEST, 0, 0, 1, 1, big);
  b.addHeader(Kind.REQUEST, 0, 0, 1, 2);
  b.appendPayload(big);
  const got = readAll(b.finish());
  const want = Buffer.from(big, 'utf8');
  assert.deepEqual(got[0]!.bytes, want);
  assert.deepEqual(got[1]!.bytes, want);
});

test('a reader walks a frame that lives in a ring (shared memory), payloads as views', () => {
  const ring = new SpscRing(SpscRing.create(4096));
  const b = new FrameBuilder();
  b.add(Kind.REQUEST, 1, 0, 5, 6, 'PUSH q {"a":1}');
  b.add(Kind.REQUEST, 1, 0, 5, 7, new Uint8Array([1, 2, 3]));
  assert.ok(ring.tryWrite(b.finish()));
  const frame = ring.read()!;
  const r = new FrameReader().reset(frame);
  assert.ok(r.next());
  assert.equal(r.text(), 'PUSH q {"a":1}');
  assert.equal(r.payload().buffer, frame.buffer, 'payload is a view, not a copy');
  assert.ok(r.next());
  assert.equal(r.length, 3);
  assert.deepEqual([...r.payload()], [1, 2, 3]);
  assert.equal(r.next(), false);
});

test('a truncated or lying frame is rejected, never read past its end', () => {
  const b = new FrameBuilder();
  b.add(Kind.REQUEST, 0, 0, 1, 1, 'abcdef');
  const frame = new Uint8Array(b.finish());
  assert.throws(() => readAll(frame.subarray(0, 10)), /truncated/);
  assert.throws(() => readAll(frame.subarray(0, frame.length - 1)), /claims 6 bytes/);
  assert.deepEqual(readAll(new Uint8Array(0)), []);
});
