import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DECODE_OPTIONS, type DecodeOptions, RequestDecoder } from '../../src/protocol/decode.js';
import { PushLiteParser } from '../../src/protocol/json-lite.js';
import { JsonValidator } from '../../src/protocol/json-validate.js';
import { skipWs } from '../../src/protocol/json-walk.js';
import { RawJsonSource, StringifySource } from '../../src/protocol/payload-text.js';
import { JOB_FIELDS, jobInput } from '../../src/protocol/commands.js';

const decoder = new RequestDecoder();
const decodeJson = (b: Buffer, opts: DecodeOptions, lite: boolean) => decoder.json(b, opts, lite);
const validator = new JsonValidator();
const validValue = (b: Uint8Array, i: number, end: number) => validator.validValue(b, i, end);

/** Outcome of a decode: the Decoded value, or the error's message and reqId. */
function outcome(line: Buffer, lite: boolean): unknown {
  try {
    return decodeJson(line, DEFAULT_DECODE_OPTIONS, lite);
  } catch (e) {
    const err = e as { message: string; reqId?: unknown };
    return { error: err.message, reqId: err.reqId };
  }
}

function handledByLite(line: string): boolean {
  return new PushLiteParser().parse(Buffer.from(line), new RawJsonSource()) !== null;
}

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ['', 'a', 'é', '😀', 'quote"back\\slash', 'line\nbreak', '\u0000\u001f', 'tab\t', '\ud800', 'x'.repeat(40)];
const NUMBERS = [0, -0, 1, -1, 5.5, 1e21, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 9007199254740993, 1e-7, 123456789012345];

function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 5 : 8));
  switch (k) {
    case 0:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 1:
      return NUMBERS[Math.floor(r() * NUMBERS.length)];
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return Math.floor(r() * 100);
    case 5:
      return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let n = Math.floor(r() * 4); n > 0; n--) o[['a', 'data', 'queue', 'cmd', 'é', 'k"'][Math.floor(r() * 6)]!] = value(r, depth + 1);
      return o;
    }
  }
}

const FIELDS = ['data', 'priority', 'delay', 'ttl', 'timeout', 'max_attempts', 'backoff', 'unique_key', 'depends_on', 'tags', 'lifo', 'other'];

function jobObject(r: () => number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (r() < 0.95) o.data = value(r, 0);
  for (const f of FIELDS.slice(1)) {
    if (r() < 0.2) {
      const p = r();
      o[f] =
        p < 0.5
          ? Math.floor(r() * 10)
          : p < 0.6
            ? [1, 2, Math.floor(r() * 5)]
            : p < 0.7
              ? ['t', 'u']
              : p < 0.8
                ? r() < 0.5
                : value(r, 2);
    }
  }
  return o;
}

function pushbLine(r: () => number): string {
  const top: Record<string, unknown> = {};
  const keys = ['cmd', 'queue', 'jobs', 'reqId', 'extra'].sort(() => r() - 0.5);
  for (const k of keys) {
    if (k === 'cmd') top.cmd = r() < 0.9 ? 'PUSHB' : 'PUSH';
    else if (k === 'queue') top.queue = r() < 0.9 ? 'emails' : value(r, 2);
    else if (k === 'jobs') top.jobs = Array.from({ length: Math.floor(r() * 5) }, () => jobObject(r));
    else if (k === 'reqId' && r() < 0.5) top.reqId = r() < 0.5 ? 'r' + Math.floor(r() * 100) : Math.floor(r() * 100);
    else if (k === 'extra' && r() < 0.3) top.extra = value(r, 0);
  }
  return JSON.stringify(top, null, r() < 0.1 ? 1 : undefined);
}

const NOISE = ['{', '}', '[', ']', '"', ',', ':', ' ', '\\', '0', '-', '.', 'e', 't', 'n', 'u', '\n', 'x', '\u0001', 'é'];

function mutate(r: () => number, s: string): string {
  let out = s;
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const at = Math.floor(r() * (out.length + 1));
    const c = NOISE[Math.floor(r() * NOISE.length)]!;
    const op = r();
    out = op < 0.4 ? out.slice(0, at) + c + out.slice(at) : op < 0.7 ? out.slice(0, at) + out.slice(at + 1) : out.slice(0, at) + c + out.slice(at + 1);
  }
  return out;
}

describe('json-validate: accepts exactly what JSON.parse accepts', () => {
  it('agrees with JSON.parse on generated and mutated documents', () => {
    const r = rng(7);
    let valid = 0;
    for (let n = 0; n < 6000; n++) {
      const base = JSON.stringify(value(r, 0), null, r() < 0.2 ? 2 : undefined) ?? 'null';
      const text = r() < 0.6 ? mutate(r, base) : base;
      const b = Buffer.from(text);
      let parses = true;
      try {
        JSON.parse(b.toString());
      } catch {
        parses = false;
      }
      const s = skipWs(b, 0, b.length);
      const e = validValue(b, s, b.length);
      const ours = e >= 0 && skipWs(b, e, b.length) === b.length;
      assert.equal(ours, parses, `disagree on ${JSON.stringify(text)}`);
      if (parses) valid++;
    }
    assert.ok(valid > 1000, `only ${valid} valid documents generated`);
  });

  it('rejects the classic near-misses', () => {
    for (const t of ['01', '1.', '.5', '1e', '-', '+1', '[1,]', '{"a":1,}', '{"a"}', '"\\x"', '"\\u12G4"', 'tru', 'nul', '[', '{"a":1', '"a\tb"', "'a'", 'NaN']) {
      const b = Buffer.from(t);
      assert.ok(validValue(b, 0, b.length) !== b.length, t);
    }
  });
});

describe('json-lite: the PUSHB fast path', () => {
  it('handles ordinary PUSHB lines', () => {
    assert.ok(handledByLite('{"cmd":"PUSHB","queue":"q","jobs":[{"data":{"a":[1,{"b":null}]},"priority":3,"tags":["x"],"depends_on":[5]}]}'));
    assert.ok(handledByLite('{"jobs":[{"data":1}],"reqId":"r","queue":"q","extra":{"deep":[[[]]]},"cmd":"PUSHB"}'));
    assert.ok(handledByLite(' {"cmd":"PUSHB","queue":"q","jobs":[]} '));
  });

  it('leaves everything unusual to the JSON.parse path', () => {
    for (const line of [
      '{"cmd":"PULL","queue":"q","data":1}',
      '{"cmd":"PUSH","queue":"q"}',
      '{"cmd":"PUSH","queue":"q","data":{\n"a":1}}',
      '{"cmd":"PUSHB","queue":"q","jobs":[{"data":{\n"a":1}}]}',
      '{"cmd":"PUSHB","queue":"q","jobs":[{"d\\u0061ta":1}]}',
      '{"cmd":"PUSHB","queue":"q","jobs":[{"data":1,"priority":{"a":1}}]}',
      '{"cmd":"PUSHB","queue":"q","jobs":[{"data":1}]} x',
      '{"cmd":"PUSHB","queue":"q","jobs":[{"data":01}]}',
      '{"cmd":"PUSHB","queue":"q","jobs":{"data":1}}',
      '{"cmd":"PUSHB","queue":"q"}',
    ]) {
      assert.equal(handledByLite(line), false, line);
    }
  });

  it('handles ordinary single PUSH lines', () => {
    assert.ok(handledByLite('{"cmd":"PUSH","queue":"q","data":{"a":[1,{"b":null}]},"priority":3,"tags":["x"],"depends_on":[5]}'));
    assert.ok(handledByLite('{"data":"x","reqId":7,"queue":"q","cmd":"PUSH","lifo":true}'));
  });

  it('decodes single PUSH exactly as the JSON.parse path', () => {
    const r = rng(43);
    let lite = 0;
    for (let n = 0; n < 4000; n++) {
      const top: Record<string, unknown> = { cmd: 'PUSH', queue: r() < 0.9 ? 'emails' : value(r, 2), ...jobObject(r) };
      const base = JSON.stringify(top, null, r() < 0.1 ? 1 : undefined);
      const line = r() < 0.4 ? mutate(r, base) : base;
      const b = Buffer.from(line);
      assert.deepEqual(outcome(b, true), outcome(b, false), line);
      if (handledByLite(line)) lite++;
    }
    assert.ok(lite > 1000, `the fast path took only ${lite} lines`);
  });

  it('decodes exactly as the JSON.parse path: same requests, same errors', () => {
    const r = rng(42);
    let lite = 0;
    for (let n = 0; n < 4000; n++) {
      const base = pushbLine(r);
      const line = r() < 0.4 ? mutate(r, base) : base;
      const b = Buffer.from(line);
      assert.deepEqual(outcome(b, true), outcome(b, false), line);
      if (handledByLite(line)) lite++;
    }
    assert.ok(lite > 1000, `the fast path took only ${lite} lines`);
  });

  it('parses every job field the decoder reads (JOB_FIELDS is complete)', () => {
    const read = new Set<string | symbol>();
    const spy = new Proxy({ data: 1 } as Record<string, unknown>, {
      get: (target, key) => {
        read.add(key);
        return target[key as string];
      },
    });
    jobInput(spy, -1, new StringifySource(), DEFAULT_DECODE_OPTIONS);
    assert.deepEqual([...read].sort(), ['data', ...JOB_FIELDS].sort());
  });

  it('keeps data spans right across duplicate jobs arrays and data keys', () => {
    const b = Buffer.from('{"cmd":"PUSHB","queue":"q","jobs":[{"data":1},{"data":2},{"data":3}],"jobs":[{"data":"a","data":"b"}]}');
    assert.deepEqual(outcome(b, true), outcome(b, false));
    const d = decodeJson(b, DEFAULT_DECODE_OPTIONS, true).request;
    assert.deepEqual(d.cmd === 'PUSHB' && d.jobs.map((j) => j.data), ['"b"']);
  });
});

describe('json-lite payload text and keys', () => {
  it('takes ASCII payloads as copies and decodes the others, job by job', () => {
    const line = Buffer.from('{"cmd":"PUSHB","queue":"q","jobs":[{"data":{"a":"x"}},{"data":"é😀"},{"data":[1,"plain"]},{"data":{"k":"\\u00e9ü"}}]}');
    const d = decodeJson(line, DEFAULT_DECODE_OPTIONS, true).request;
    assert.ok(d.cmd === 'PUSHB');
    assert.deepEqual(
      d.jobs.map((j: { data: string }) => j.data),
      ['{"a":"x"}', '"é😀"', '[1,"plain"]', '{"k":"\\u00e9ü"}'],
    );
    const single = decodeJson(Buffer.from('{"cmd":"PUSH","queue":"q","data":{"s":"ñ"}}'), DEFAULT_DECODE_OPTIONS, true).request;
    assert.ok(single.cmd === 'PUSH');
    assert.equal(single.job.data, '{"s":"ñ"}');
  });

  it('reads keys that only resemble known ones as unknown', () => {
    const line = Buffer.from('{"cmd":"PUSHB","queue":"q","jobs":[{"data":1,"dataa":2,"priorit":5,"PRIORITY":6,"lifo":true}]}');
    const d = decodeJson(line, DEFAULT_DECODE_OPTIONS, true).request;
    assert.ok(d.cmd === 'PUSHB');
    assert.deepEqual([d.jobs[0]!.data, d.jobs[0]!.priority, d.jobs[0]!.lifo], ['1', 0, true]);
  });
});

describe('payload spans (DecodeOptions.payloadSpans)', () => {
  const spans = { ...DEFAULT_DECODE_OPTIONS, payloadSpans: true };
  const text = (j: { data: string; block?: Buffer | null; ds?: number; de?: number }) =>
    j.block ? j.block.toString('latin1', j.ds, j.de) : j.data;

  it('gives ASCII batch payloads as spans of one private copy of the request, the others as strings', () => {
    const line = Buffer.from('{"cmd":"PUSHB","queue":"q","jobs":[{"data":{"a":"x"}},{"data":"é"},{"data":[1, 2]}]}');
    const d = decodeJson(line, spans, true).request;
    assert.ok(d.cmd === 'PUSHB');
    const [a, b, c] = d.jobs;
    assert.ok(a!.block && c!.block && a!.block === c!.block, 'one block for the request');
    assert.equal(b!.block, null);
    assert.deepEqual([a!.data, b!.data, c!.data], ['', '"é"', '']);
    assert.deepEqual(d.jobs.map(text), ['{"a":"x"}', '"é"', '[1, 2]']);
    line.fill(0x20); // the request's bytes are reused (a ring, a socket buffer): the payloads are not
    assert.deepEqual(d.jobs.map(text), ['{"a":"x"}', '"é"', '[1, 2]']);
  });

  it('keeps single PUSH payloads and the fallback path as strings, and the payload limit on spans', () => {
    const one = decodeJson(Buffer.from('{"cmd":"PUSH","queue":"q","data":{"a":1}}'), spans, true).request;
    assert.ok(one.cmd === 'PUSH');
    assert.deepEqual([one.job.data, one.job.block], ['{"a":1}', null]);
    const pretty = decodeJson(Buffer.from('{"cmd":"PUSHB","queue":"q","jobs":[{"data":{"a":\n1}}]}'), spans, true).request;
    assert.ok(pretty.cmd === 'PUSHB');
    assert.deepEqual([pretty.jobs[0]!.data, pretty.jobs[0]!.block], ['{"a":1}', null]);
    const big = Buffer.from(JSON.stringify({ cmd: 'PUSHB', queue: 'q', jobs: [{ data: 'x'.repeat(2000) }] }));
    assert.throws(() => decodeJson(big, { ...spans, payloadLimit: 1000 }, true), /Payload too large/);
  });
});
