import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import { DecodeError, RequestDecoder } from '../../src/protocol/decode.js';
import { AnswerEncoder, encodeError } from '../../src/protocol/encode.js';
import { errors } from '../../src/base/errors.js';
import { encodeGrpc, GrpcDecoder, GrpcMethod } from '../../src/protocol/grpc-codec.js';
import { ProtoReader, ProtoWriter } from '../../src/protocol/grpc-wire.js';
import { LineSplitter } from '../../src/protocol/json-lines.js';
import { JsonValidator } from '../../src/protocol/json-validate.js';
import { JsonWalk, keyBytes } from '../../src/protocol/json-walk.js';
import { MsgpackWalk } from '../../src/protocol/msgpack-walk.js';
import { Format } from '../../src/protocol/result.js';
import { type Route, RouteScanner } from '../../src/protocol/route-scan.js';
import { jobView } from './helpers.js';

/**
 * The parsers keep their state in instances (test/protocol/module-state.test.ts checks the
 * modules): two owners' work may interleave, and one owner's parse may run inside another's
 * callback, with the same answers as running them one after the other.
 */

/** What one front + shard pair makes of a line: the route, then the decode (or its error). */
interface Outcome {
  route: Route;
  decoded: unknown;
  answer: string;
}

class Owner {
  readonly scanner = new RouteScanner();
  readonly decoder = new RequestDecoder();
  readonly encoder = new AnswerEncoder();

  decode(line: Buffer): { decoded: unknown; answer: string } {
    try {
      const d = this.decoder.decode(Format.TcpJson, line);
      return { decoded: d, answer: '' };
    } catch (e) {
      assert.ok(e instanceof DecodeError);
      return { decoded: null, answer: Buffer.from(this.encoder.error(Format.TcpJson, e, e.reqId)).toString() };
    }
  }

  run(line: Buffer): Outcome {
    const route = { ...this.scanner.scanJson(line, 0, line.length) };
    return { route, ...this.decode(line) };
  }
}

const LINES = [
  '{"cmd":"PUSHB","queue":"qa","jobs":[{"data":{"a":1}},{"data":[1,2],"priority":3},{"data":"ü"}]}',
  '{"cmd":"PUSH","queue":"qb","data":"x\\u0041","reqId":"r2"}',
  '{"cmd":"ACK","id":17,"result":{"ok":true}}',
  '{"reqId":5,"cmd":"PULLB","queue":"qc","count":2}',
  '{"cmd":"PUSH","queue":"q\\u0061","data":{"deep":[{"x":[1,{"y":2}]}]},"max_attempts":4}',
  '{"cmd":"PUSH","reqId":"bad","queue":"qa","data":{"a":1,}}',
  '{"cmd":"PUSHB","queue":"qd","jobs":[{"data":{"pretty":\n1}}]}'.replace('\n', ' '),
  '{"cmd":"CRON","name":"n1","queue":"qe","schedule":"*/5 * * * * *","data":{"z":0}}',
].map((l) => Buffer.from(l));

function sequential(): Outcome[] {
  const o = new Owner();
  return LINES.map((l) => o.run(l));
}

describe('reentrant parsers', () => {
  it('a route scan and decode run inside another owner’s line callback, between its scan and its use', () => {
    const want = sequential();
    const a = new Owner();
    const b = new Owner();
    const got: Outcome[] = new Array<Outcome>(LINES.length);
    const nested: Outcome[] = new Array<Outcome>(LINES.length);
    let i = 0;
    const lines = new LineSplitter();
    lines.push(Buffer.concat(LINES.flatMap((l) => [l, Buffer.from('\n')])), {
      line: (buf, start, end) => {
        const k = i++;
        // A's route is a reused object, valid until A's next scan: B's work must not touch it
        const route = a.scanner.scanJson(buf, start, end);
        const other = LINES.length - 1 - k;
        nested[other] = b.run(LINES[other]!);
        const line = buf.subarray(start, end);
        got[k] = { route: { ...route }, ...a.decode(line) };
      },
      oversize: () => assert.fail('no line is oversize'),
    });
    assert.equal(i, LINES.length);
    assert.deepEqual(got, want);
    assert.deepEqual(nested, want);
  });

  it('walkers keep their side results while another walker works', () => {
    const one = Buffer.from('{"data":{"a":\n[1,2]},"x":1,"data":"second"}');
    const two = Buffer.from('{"queue":"q","data":[true]}');
    const key = keyBytes('data');
    const seq = new JsonWalk();
    const s1 = seq.findMember(one, 0, one.length, key);
    const want1 = { at: s1, valueEnd: seq.valueEnd, objectEnd: seq.objectEnd, matches: seq.matches, newline: seq.newline };
    const s2 = seq.findMember(two, 0, two.length, key);
    const want2 = { at: s2, valueEnd: seq.valueEnd, objectEnd: seq.objectEnd, matches: seq.matches, newline: seq.newline };
    assert.equal(want1.matches, 2);

    const a = new JsonWalk();
    const b = new JsonWalk();
    const a1 = a.findMember(one, 0, one.length, key);
    const b2 = b.findMember(two, 0, two.length, key);
    assert.deepEqual({ at: a1, valueEnd: a.valueEnd, objectEnd: a.objectEnd, matches: a.matches, newline: a.newline }, want1);
    assert.deepEqual({ at: b2, valueEnd: b.valueEnd, objectEnd: b.objectEnd, matches: b.matches, newline: b.newline }, want2);

    // the validator's flags: A validated non-ASCII text with a line break, B plain ASCII since
    const va = new JsonValidator();
    const vb = new JsonValidator();
    const text = Buffer.from('{"é":\n1}');
    assert.equal(va.validValue(text, 0, text.length), text.length);
    assert.equal(vb.validValue(two, 0, two.length), two.length);
    assert.deepEqual([va.newline, va.ascii, vb.newline, vb.ascii], [true, false, false, true]);

    // MessagePack: A reads a key, B reads a whole map, A goes on from where it was
    const ma = new MsgpackWalk();
    const mb = new MsgpackWalk();
    const m1 = pack({ queue: 'first', id: 7 });
    const m2 = pack({ cmd: 'PUSH', queue: 'a-much-longer-queue-name' });
    assert.equal(ma.readMapHeader(m1, 0, m1.length), 2);
    const k1 = ma.readStr(m1, ma.next, m1.length);
    const afterKey = ma.next;
    assert.equal(mb.readMapHeader(m2, 0, m2.length), 2);
    mb.readStr(m2, mb.next, m2.length);
    mb.readStr(m2, mb.next, m2.length);
    assert.equal(ma.next, afterKey);
    assert.equal(Buffer.from(m1.subarray(k1, ma.next)).toString(), 'queue');
    const v1 = ma.readStr(m1, ma.next, m1.length);
    assert.equal(Buffer.from(m1.subarray(v1, ma.next)).toString(), 'first');
  });

  it('gRPC: records decoded inside a reader’s per-entry callback, readers interleaved mid-message', () => {
    const w = new ProtoWriter();
    const jobs = [jobView({ id: 3, queue: 'qa' }), jobView({ id: 2 ** 40 + 5, queue: 'qa' }), jobView({ id: 9, queue: 'qa' })];
    const response = Buffer.from(encodeGrpc(w, { cmd: 'PULLB', queue: 'qa', count: 3, timeout: null }, { kind: 'jobs', jobs }));
    const push = (queue: string, data: string) => {
      w.reset();
      w.buf[w.pos++] = GrpcMethod.PushBatch;
      w.string(1, queue);
      w.tag(2, 2);
      const at = w.beginLen();
      w.string(1, data);
      w.uint(2, 4);
      w.endLen(at);
      return w.finish();
    };
    const records = [push('q1', '{"n":1}'), push('q2', '[2]'), push('q3', '"three"')];
    const seqDecoder = new GrpcDecoder();
    const want = records.map((r) => seqDecoder.decode(r));

    const outer = new ProtoReader();
    const inner = new ProtoReader();
    const decoder = new GrpcDecoder();
    const ids: number[] = [];
    const decoded: unknown[] = [];
    let k = 0;
    outer.forEachLenField1(response, (s, e) => {
      // another owner's full decode and scans run before this entry is read
      decoded.push(decoder.decode(records[k]!));
      assert.equal(inner.scanQueue(records[k]!, 1), `q${k + 1}`);
      k++;
      ids.push(outer.scanId(response, s, e));
    });
    assert.deepEqual(ids, [3, 2 ** 40 + 5, 9]);
    assert.deepEqual(decoded, want);

    // partial work: A has read the first tag of a record when B reads a whole one
    const a = new ProtoReader();
    const b = new ProtoReader();
    a.pos = 1;
    assert.equal(a.readVarint(records[0]!, records[0]!.length), 0x0a);
    assert.equal(b.scanQueue(records[1]!, 1), 'q2');
    const n = a.readLength(records[0]!, records[0]!.length);
    assert.equal(records[0]!.toString('utf8', a.pos, a.pos + n), 'q1');
  });

  it('encoders keep their own queue memos and writers', () => {
    const jobsOf = (queue: string) => ({ kind: 'jobs' as const, jobs: [jobView({ id: 1, queue }), jobView({ id: 2, queue })] });
    const req = (queue: string) => ({ cmd: 'PULLB' as const, queue, count: 2, timeout: null });
    const seq = new AnswerEncoder();
    const formats = [Format.TcpMsgpack, Format.TcpJson, Format.Http, Format.Grpc];
    const want = formats.flatMap((f) => ['qa', 'qb', 'qa'].map((q) => Buffer.from(seq.answer(f, req(q), jobsOf(q), 1))));
    const a = new AnswerEncoder();
    const b = new AnswerEncoder();
    const got = formats.flatMap((f) => [
      Buffer.from(a.answer(f, req('qa'), jobsOf('qa'), 1)),
      Buffer.from(b.answer(f, req('qb'), jobsOf('qb'), 1)),
      Buffer.from(a.answer(f, req('qa'), jobsOf('qa'), 1)),
    ]);
    assert.deepEqual(got, want);
    // encodeError, for callers owning no encoder, renders what an encoder renders
    const formats5 = [...formats, Format.Internal];
    for (const f of formats5) {
      for (const reqId of [null, 'r-1', 42]) {
        const err = errors.rateLimited();
        assert.deepEqual(Buffer.from(encodeError(f, err, reqId)), Buffer.from(a.error(f, err, reqId)), `format ${f}, reqId ${reqId}`);
      }
    }
  });
});
