import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack, unpack } from 'msgpackr';
import { MsgpackWriter } from '../../src/protocol/msgpack-writer.js';

const w = new MsgpackWriter();

function transcode(text: string): unknown {
  const framed = w.begin().json(text).finish();
  assert.equal(framed.readUInt32BE(0), framed.length - 4);
  return unpack(framed.subarray(4));
}

/** Same value as JSON.parse gives (compared through JSON, which also equates -0 and 0). */
function same(text: string): void {
  assert.equal(JSON.stringify(transcode(text)), JSON.stringify(JSON.parse(text)), text.slice(0, 200));
}

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function value(r: () => number, depth: number): unknown {
  switch (Math.floor(r() * (depth > 3 ? 5 : 7))) {
    case 0:
      return ['', 'a', 'é', '😀', 'q"b\\s/', '\n\t\u0001', 'x'.repeat(Math.floor(r() * 300))][Math.floor(r() * 7)];
    case 1:
      return [0, -0, 1, -1, 127, 128, 255, 256, 65535, 65536, -32, -33, -128, -129, -32768, -32769, 2 ** 31, 2 ** 32, -(2 ** 31) - 1, 2 ** 53, 1.5, -2.25e-8, 1e21][
        Math.floor(r() * 23)
      ];
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return Math.floor(r() * 1e6) - 5e5;
    case 5:
      return Array.from({ length: Math.floor(r() * 20) }, () => value(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let n = Math.floor(r() * 20); n > 0; n--) o[`k${Math.floor(r() * 30)}${r() < 0.1 ? '"é' : ''}`] = value(r, depth + 1);
      return o;
    }
  }
}

describe('MsgpackWriter.json: JSON text straight to MessagePack', () => {
  it('gives the value JSON.parse gives, for generated documents compact or pretty', () => {
    const r = rng(3);
    for (let n = 0; n < 3000; n++) {
      const v = value(r, 0);
      same(JSON.stringify(v));
      if (n % 5 === 0) same(JSON.stringify(v, null, 2));
    }
  });

  it('handles string length classes and escapes', () => {
    for (const n of [0, 31, 32, 255, 256, 65535, 65536, 100000]) same(JSON.stringify('y'.repeat(n)));
    same('"\\u00e9\\ud83d\\ude00\\n\\"\\\\\\/"');
    same(JSON.stringify('é'.repeat(40000)));
  });

  it('widens containers past 65535 entries', () => {
    same(JSON.stringify(Array.from({ length: 70000 }, (_, i) => i % 7)));
    same(JSON.stringify(Object.fromEntries(Array.from({ length: 70000 }, (_, i) => [`k${i}`, i]))));
    same(JSON.stringify({ a: Array.from({ length: 70000 }, () => 1), b: 'after' }));
  });

  it('encodes deep nesting without recursion', () => {
    same('['.repeat(1000) + ']'.repeat(1000));
    // deeper than any recursive walker (or msgpackr's reader) would survive: one array16 per level
    const framed = w.begin().json('['.repeat(100000) + ']'.repeat(100000)).finish();
    assert.equal(framed.length, 4 + 3 * 100000);
  });

  it('encodes numbers as msgpackr does', () => {
    for (const v of [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), 1.5, 1e300, 12345678901234567890]) {
      const framed = w.begin().json(JSON.stringify(v)).finish();
      assert.deepEqual([...framed.subarray(4)], [...pack(v)], String(v));
    }
  });

  it('writes other values beside transcoded ones', () => {
    const framed = w.begin().map(3).str('a').json('{"x":[1,2]}').str('b').num(2 ** 40).str('c').strOrNil(null).finish();
    assert.deepEqual(unpack(framed.subarray(4)), { a: { x: [1, 2] }, b: 2 ** 40, c: null });
  });
});
