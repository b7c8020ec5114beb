import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack } from 'msgpackr';
import { RouteScanner, type Route } from '../../src/protocol/route-scan.js';

const scanner = new RouteScanner();
const scanJsonRoute = (b: Uint8Array, s: number, e: number) => scanner.scanJson(b, s, e);
const scanMsgpackRoute = (b: Uint8Array, s: number, e: number) => scanner.scanMsgpack(b, s, e);

function json(s: string): Route {
  const b = Buffer.from(`  ${s}  `); // the scanner works on a range of a bigger buffer
  return { ...scanJsonRoute(b, 1, b.length - 1) };
}

function mp(o: unknown): Route {
  const body = pack(o);
  const b = Buffer.concat([Buffer.from([0xff]), body, Buffer.from([0xff])]);
  return { ...scanMsgpackRoute(b, 1, 1 + body.length) };
}

function mpBytes(bytes: number[]): Route {
  const b = Buffer.from(bytes);
  return { ...scanMsgpackRoute(b, 0, b.length) };
}

const none: Route = { malformed: false, cmd: null, queue: null, id: -1, name: null, token: null };

describe('scanJsonRoute', () => {
  it('reads cmd and queue', () => {
    assert.deepEqual(json('{"cmd":"PUSH","queue":"emails","data":{}}'), { ...none, cmd: 'PUSH', queue: 'emails' });
  });

  it('reads keys in any order, cmd last included', () => {
    assert.deepEqual(json('{"data":{"a":[1,2,{"b":"}"}]},"queue":"q1","priority":5,"cmd":"PUSH"}'), { ...none, cmd: 'PUSH', queue: 'q1' });
    assert.deepEqual(json('{ "id" : 42 , "cmd" : "ACK" }'), { ...none, cmd: 'ACK', id: 42 });
  });

  it('ignores a nested "queue" in data placed before the real one', () => {
    const r = json('{"cmd":"PUSH","data":{"queue":"decoy","x":{"queue":"deeper"}},"queue":"real"}');
    assert.equal(r.queue, 'real');
    assert.equal(json('{"data":[{"queue":"decoy"}],"cmd":"PUSH","queue":"real"}').queue, 'real');
    assert.equal(json('{"jobs":[{"data":{"cmd":"PAUSE","queue":"x"}}],"cmd":"PUSHB","queue":"real"}').cmd, 'PUSHB');
  });

  it('skips strings with escapes that look like keys', () => {
    const r = json('{"data":"he said \\"queue\\":\\"x\\" \\\\","msg":"\\\\\\"","cmd":"PUSH","queue":"real"}');
    assert.equal(r.queue, 'real');
    assert.equal(r.malformed, false);
  });

  it('decodes escapes in routing values exactly as the shard will', () => {
    assert.equal(json('{"cmd":"PUSH","queue":"\\u0061bc"}').queue, 'abc');
    assert.equal(json('{"cmd":"PU\\u0053H","queue":"q"}').cmd, 'PUSH');
    assert.equal(json('{"cmd":"PUSH","q\\u0075eue":"q"}').queue, 'q');
    assert.equal(json('{"cmd":"PUSH","queue":"caf\\u00e9"}').queue, 'café');
    assert.equal(json('{"cmd":"PUSH","queue":"café"}').queue, 'café');
  });

  it('returns null for a queue that is not a short string (the shard answers the error)', () => {
    assert.equal(json('{"cmd":"PUSH","queue":5}').queue, null);
    assert.equal(json('{"cmd":"PUSH","queue":null}').queue, null);
    assert.equal(json('{"cmd":"PUSH","queue":{"a":"b"}}').queue, null);
    assert.equal(json(`{"cmd":"PUSH","queue":"${'a'.repeat(3000)}"}`).queue, null);
    assert.equal(json(`{"cmd":"PUSH","queue":"${'a'.repeat(300)}"}`).queue, 'a'.repeat(300));
  });

  it('reads ids as JSON.parse would, -1 when not a positive safe integer', () => {
    assert.equal(json('{"cmd":"ACK","id":12345}').id, 12345);
    assert.equal(json('{"cmd":"ACK","id":1e3}').id, 1000);
    assert.equal(json('{"cmd":"ACK","id":7.0}').id, 7);
    assert.equal(json('{"cmd":"ACK","id":7.5}').id, -1);
    assert.equal(json('{"cmd":"ACK","id":-5}').id, -1);
    assert.equal(json('{"cmd":"ACK","id":0}').id, -1);
    assert.equal(json('{"cmd":"ACK","id":"12"}').id, -1);
    assert.equal(json('{"cmd":"ACK","id":9007199254740993}').id, -1);
    assert.equal(json('{"cmd":"GETJOB","id":9007199254740991}').id, 9007199254740991);
  });

  it('reads name for CRON and CRONDELETE, token for AUTH', () => {
    assert.deepEqual(json('{"cmd":"CRON","name":"nightly","queue":"q","schedule":"* * * * * *"}'), {
      ...none,
      cmd: 'CRON',
      name: 'nightly',
      queue: 'q',
    });
    assert.deepEqual(json('{"cmd":"CRONDELETE","name":"nightly"}'), { ...none, cmd: 'CRONDELETE', name: 'nightly' });
    assert.deepEqual(json('{"cmd":"AUTH","token":"s3cret"}'), { ...none, cmd: 'AUTH', token: 's3cret' });
  });

  it('stops as soon as the command has its fields (the rest is not even looked at)', () => {
    // everything after the queue is truncated garbage: a full walk would call it malformed
    const r = json('{"cmd":"PUSHB","queue":"emails","jobs":[{"data":{"a":');
    assert.deepEqual(r, { ...none, cmd: 'PUSHB', queue: 'emails' });
    assert.deepEqual(json('{"cmd":"ACK","id":5,"result":{{{{'), { ...none, cmd: 'ACK', id: 5 });
  });

  it('keeps the first occurrence of a routing key', () => {
    assert.equal(json('{"queue":"first","cmd":"PUSH","queue":"second"}').queue, 'first');
  });

  it('walks the whole object for an unknown command or fan-out commands', () => {
    assert.deepEqual(json('{"cmd":"NOPE","queue":"q","id":3}'), { ...none, cmd: 'NOPE', queue: 'q', id: 3 });
    assert.deepEqual(json('{"cmd":"STATS"}'), { ...none, cmd: 'STATS' });
    assert.deepEqual(json('{"queue":"q"}'), { ...none, queue: 'q' });
    assert.deepEqual(json('{}'), none);
  });

  it('returns interned strings for known commands', () => {
    const b = Buffer.from('{"cmd":"PULLB","queue":"q"}');
    assert.equal(scanJsonRoute(b, 0, b.length).cmd, 'PULLB');
  });

  it('flags bytes it cannot walk as malformed', () => {
    assert.equal(json('[1,2]').malformed, true);
    assert.equal(json('not json').malformed, true);
    assert.equal(json('{"cmd":"PUSH","data":{"a":1}').malformed, true);
    assert.equal(json('{"cmd" "PUSH"}').malformed, true);
    assert.equal(json('{"cmd":"PUSH",').malformed, true);
  });

  it('returns one reused object', () => {
    const b = Buffer.from('{"cmd":"STATS"}');
    assert.equal(scanJsonRoute(b, 0, b.length), scanJsonRoute(b, 0, b.length));
  });

  it('scans a view of a SharedArrayBuffer (ring memory)', () => {
    const src = Buffer.from('{"cmd":"PUSH","queue":"ring"}');
    const shared = new Uint8Array(new SharedArrayBuffer(64));
    shared.set(src, 10);
    assert.equal(scanJsonRoute(shared, 10, 10 + src.length).queue, 'ring');
  });
});

describe('scanMsgpackRoute', () => {
  it('reads cmd, queue, id, name and token from the top-level map', () => {
    assert.deepEqual(mp({ cmd: 'PUSH', queue: 'emails', data: { a: 1 } }), { ...none, cmd: 'PUSH', queue: 'emails' });
    assert.deepEqual(mp({ data: { queue: 'decoy', list: [{ queue: 'x' }] }, id: 99, cmd: 'ACK' }), { ...none, cmd: 'ACK', id: 99 });
    assert.deepEqual(mp({ cmd: 'CRON', name: 'n', queue: 'q' }), { ...none, cmd: 'CRON', name: 'n', queue: 'q' });
    assert.deepEqual(mp({ cmd: 'AUTH', token: 't' }), { ...none, cmd: 'AUTH', token: 't' });
  });

  it('skips every value type on the way', () => {
    const r = mp({
      a: null,
      b: true,
      c: -1,
      d: -200,
      e: 70000,
      f: -70000,
      g: 2 ** 40,
      h: 1.5,
      i: 'x'.repeat(40),
      j: 'y'.repeat(300),
      k: 'z'.repeat(70000),
      l: Buffer.alloc(10),
      m: Buffer.alloc(300),
      n: new Array(20).fill(1),
      o: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
      p: new Date(0),
      cmd: 'PUSH',
      queue: 'deep',
    });
    assert.deepEqual(r, { ...none, cmd: 'PUSH', queue: 'deep' });
  });

  it('reads ids of every integer width, and integral floats', () => {
    assert.equal(mp({ cmd: 'ACK', id: 5 }).id, 5);
    assert.equal(mp({ cmd: 'ACK', id: 200 }).id, 200);
    assert.equal(mp({ cmd: 'ACK', id: 60000 }).id, 60000);
    assert.equal(mp({ cmd: 'ACK', id: 4000000000 }).id, 4000000000);
    assert.equal(mp({ cmd: 'ACK', id: 2 ** 40 + 3 }).id, 2 ** 40 + 3); // float64 from msgpackr
    assert.equal(mpBytes([0x82, 0xa3, 0x63, 0x6d, 0x64, 0xa3, 0x41, 0x43, 0x4b, 0xa2, 0x69, 0x64, 0xcf, 0, 0, 1, 0, 0, 0, 0, 3]).id, 2 ** 40 + 3);
    assert.equal(mpBytes([0x82, 0xa3, 0x63, 0x6d, 0x64, 0xa3, 0x41, 0x43, 0x4b, 0xa2, 0x69, 0x64, 0xd3, 0, 0, 1, 0, 0, 0, 0, 3]).id, 2 ** 40 + 3);
    assert.equal(mp({ cmd: 'ACK', id: -3 }).id, -1);
    assert.equal(mp({ cmd: 'ACK', id: 2.5 }).id, -1);
    assert.equal(mp({ cmd: 'ACK', id: '5' }).id, -1);
  });

  it('skips non-string keys', () => {
    // {1: "x", "cmd": "STATS"}
    assert.deepEqual(mpBytes([0x82, 0x01, 0xa1, 0x78, 0xa3, 0x63, 0x6d, 0x64, 0xa5, 0x53, 0x54, 0x41, 0x54, 0x53]), { ...none, cmd: 'STATS' });
  });

  it('stops once the fields are found, and flags truncated or non-map bytes', () => {
    const whole = pack({ cmd: 'PUSHB', queue: 'q', jobs: [{ data: 'x'.repeat(100) }] });
    const r = scanMsgpackRoute(whole, 0, 21); // map16 header, cmd, queue: 21 bytes
    assert.equal(r.queue, 'q');
    assert.equal(r.malformed, false);
    assert.equal(mpBytes([0x93, 1, 2, 3]).malformed, true);
    assert.equal(scanMsgpackRoute(pack({ data: 'x'.repeat(100), cmd: 'PUSH' }), 0, 30).malformed, true);
  });
});

describe('scanJsonRoute queue cache', () => {
  it('is not fooled when the scanned memory is reused for another queue', () => {
    const shared = Buffer.from(new SharedArrayBuffer(64));
    const a = Buffer.from('{"cmd":"PUSH","queue":"aaaa"}');
    shared.set(a, 0);
    assert.equal(scanJsonRoute(shared, 0, a.length).queue, 'aaaa');
    shared.set(Buffer.from('{"cmd":"PUSH","queue":"bbbb"}'), 0);
    assert.equal(scanJsonRoute(shared, 0, a.length).queue, 'bbbb');
    shared.set(a, 0);
    assert.equal(scanJsonRoute(shared, 0, a.length).queue, 'aaaa');
  });
});
