import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import type { JobView } from '../../src/engine/types.js';
import { FlashqError } from '../../src/base/errors.js';
import { ackBatchRecord as ackRecord, encodeGrpc as encodeWith, GrpcDecoder, GrpcMethod, pullBatchRecord as pullRecord } from '../../src/protocol/grpc-codec.js';
import { ProtoReader, ProtoWriter } from '../../src/protocol/grpc-wire.js';
import type { Request } from '../../src/protocol/request.js';
import type { Result } from '../../src/protocol/result.js';
import { protoPath } from './client.js';

const decoder = new GrpcDecoder();
const decodeGrpc = (bytes: Uint8Array) => decoder.decode(bytes);
const writer = new ProtoWriter();
const encodeGrpc = (request: Request, result: Result) => encodeWith(writer, request, result);
const pullBatchRecord = (queue: string, count: number) => pullRecord(writer, queue, count);
const ackBatchRecord = (ids: number[]) => ackRecord(writer, ids);
const reader = new ProtoReader();
const scanQueue = (b: Uint8Array) => reader.scanQueue(b);
const scanId = (b: Uint8Array) => reader.scanId(b);
const scanIds = (b: Uint8Array) => reader.scanIds(b);
const scanStreamRequest = (b: Uint8Array) => reader.scanStreamRequest(b);
const scanPlainSuccess = (b: Uint8Array) => reader.scanPlainSuccess(b);

const root = protobuf.loadSync(protoPath());
const type = (name: string) => root.lookupType(`flashq.${name}`);
const encode = (name: string, value: object) => Buffer.from(type(name).encode(type(name).fromObject(value)).finish());
const record = (method: number, bytes: Uint8Array) => Buffer.concat([Buffer.from([method]), bytes]);
const decodeAs = (name: string, bytes: Uint8Array) =>
  type(name).toObject(type(name).decode(bytes), { longs: Number, enums: String, defaults: true, bytes: String }) as Record<string, unknown>;

function job(over: Partial<JobView> = {}): JobView {
  return {
    id: 513,
    queue: 'emails',
    data: '{"to":"a@b.c","n":[1,2]}',
    priority: -7,
    createdAt: 1_700_000_000_123,
    runAt: 1_700_000_000_456,
    startedAt: 1_700_000_000_789,
    attempts: 2,
    maxAttempts: 5,
    backoff: 1000,
    ttl: 60_000,
    timeout: 30_000,
    uniqueKey: 'k-1',
    dependsOn: [257, 2 ** 40],
    progress: 40,
    progressMsg: 'halfway é',
    tags: [],
    lifo: true,
    state: 'active',
    result: null,
    error: null,
    finishedAt: 0,
    owner: 3,
    ...over,
  };
}

function refusal(fn: () => unknown): FlashqError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FlashqError, String(e));
    return e;
  }
  throw new Error('expected a refusal');
}

test('a PushRequest decodes to PUSH with the TCP defaults for fields left at 0', () => {
  const bytes = encode('PushRequest', { queue: 'emails', data: Buffer.from('{"a":1}'), priority: -3, dependsOn: [257, 513], uniqueKey: 'u' });
  const { request } = decodeGrpc(record(GrpcMethod.Push, bytes));
  assert.deepEqual(request, {
    cmd: 'PUSH',
    queue: 'emails',
    job: { data: '{"a":1}', priority: -3, delay: 0, ttl: 0, timeout: 0, maxAttempts: 1, backoff: 1000, uniqueKey: 'u', dependsOn: [257, 513], tags: [], lifo: false },
  });
});

test('every JobInput field of a PushBatchRequest is read, in input order', () => {
  const jobs = [
    { data: Buffer.from('[1]'), priority: 9, delayMs: 5, ttlMs: 6, timeoutMs: 7, maxAttempts: 3, backoffMs: 8, uniqueKey: 'x', dependsOn: [1], lifo: true },
    { data: Buffer.from('"two"') },
  ];
  const { request } = decodeGrpc(record(GrpcMethod.PushBatch, encode('PushBatchRequest', { queue: 'q.1', jobs })));
  assert.equal(request.cmd, 'PUSHB');
  if (request.cmd !== 'PUSHB') return;
  assert.equal(request.queue, 'q.1');
  assert.deepEqual(request.jobs[0], { data: '[1]', priority: 9, delay: 5, ttl: 6, timeout: 7, maxAttempts: 3, backoff: 8, uniqueKey: 'x', dependsOn: [1], tags: [], lifo: true });
  assert.equal(request.jobs[1]!.data, '"two"');
  assert.equal(request.jobs[1]!.uniqueKey, null);
});

test('payloads are validated as JSON and kept on one line', () => {
  const bad = refusal(() => decodeGrpc(record(GrpcMethod.Push, encode('PushRequest', { queue: 'q', data: Buffer.from('{nope') }))));
  assert.match(bad.message, /^Invalid JSON: /);
  const pretty = decodeGrpc(record(GrpcMethod.Push, encode('PushRequest', { queue: 'q', data: Buffer.from('{\n  "a": 1\n}') })));
  assert.equal(pretty.request.cmd === 'PUSH' && pretty.request.job.data, '{"a":1}');
  const padded = decodeGrpc(record(GrpcMethod.Push, encode('PushRequest', { queue: 'q', data: Buffer.from(' [1, 2]\n') })));
  assert.equal(padded.request.cmd === 'PUSH' && padded.request.job.data, '[1, 2]');
  const missing = refusal(() => decodeGrpc(record(GrpcMethod.Push, encode('PushRequest', { queue: 'q' }))));
  assert.equal(missing.message, 'Missing field "data"');
  const inBatch = refusal(() =>
    decodeGrpc(record(GrpcMethod.PushBatch, encode('PushBatchRequest', { queue: 'q', jobs: [{ data: Buffer.from('1') }, { data: Buffer.from('x') }] }))),
  );
  assert.match(inBatch.message, /^Invalid JSON: .*jobs\[1\]\.data/);
});

test('limits and names are checked as on TCP', () => {
  const big = Buffer.from(JSON.stringify('x'.repeat(1_048_576)));
  assert.match(refusal(() => decodeGrpc(record(GrpcMethod.Push, encode('PushRequest', { queue: 'q', data: big })))).message, /^Payload too large \(1048578 bytes, max 1048576\)/);
  assert.match(refusal(() => decodeGrpc(record(GrpcMethod.Push, encode('PushRequest', { queue: 'a b', data: Buffer.from('1') })))).message, /^Invalid queue name/);
  const many = Array.from({ length: 1001 }, () => ({ data: Buffer.from('1') }));
  assert.equal(refusal(() => decodeGrpc(record(GrpcMethod.PushBatch, encode('PushBatchRequest', { queue: 'q', jobs: many })))).message, 'Batch too large (max 1000)');
  assert.equal(refusal(() => decodeGrpc(record(GrpcMethod.PullBatch, encode('PullBatchRequest', { queue: 'q', count: 1001 })))).message, 'Batch too large (max 1000)');
  assert.equal(refusal(() => decodeGrpc(record(GrpcMethod.Ack, encode('AckRequest', {})))).message, 'Missing field "id"');
});

test('pulls wait (no timeout); PullBatch count 0 means one job', () => {
  assert.deepEqual(decodeGrpc(record(GrpcMethod.Pull, encode('PullRequest', { queue: 'q' }))).request, { cmd: 'PULL', queue: 'q', timeout: null });
  assert.deepEqual(decodeGrpc(record(GrpcMethod.PullBatch, encode('PullBatchRequest', { queue: 'q' }))).request, { cmd: 'PULLB', queue: 'q', count: 1, timeout: null });
});

test('acks, fails, job results and lookups decode to their commands', () => {
  const d = (m: number, name: string, v: object) => decodeGrpc(record(m, encode(name, v))).request;
  assert.deepEqual(d(GrpcMethod.Ack, 'AckRequest', { id: 257, result: Buffer.from('{"ok":1}') }), { cmd: 'ACK', id: 257, result: '{"ok":1}' });
  assert.deepEqual(d(GrpcMethod.Ack, 'AckRequest', { id: 257 }), { cmd: 'ACK', id: 257, result: null });
  assert.deepEqual(d(GrpcMethod.AckBatch, 'AckBatchRequest', { ids: [257, 2 ** 50] }), { cmd: 'ACKB', ids: [257, 2 ** 50] });
  assert.deepEqual(d(GrpcMethod.Fail, 'FailRequest', { id: 9, error: 'boom' }), { cmd: 'FAIL', id: 9, error: 'boom' });
  assert.deepEqual(d(GrpcMethod.GetState, 'GetStateRequest', { id: 9 }), { cmd: 'GETSTATE', id: 9 });
  assert.deepEqual(d(GrpcMethod.JobResult, 'JobResult', { id: 9, success: true, result: Buffer.from('2') }), { cmd: 'ACK', id: 9, result: '2' });
  assert.deepEqual(d(GrpcMethod.JobResult, 'JobResult', { id: 9, success: false, error: 'e' }), { cmd: 'FAIL', id: 9, error: 'e' });
});

test('a Job encodes to what protobufjs reads from proto/flashq.proto', () => {
  const j = job();
  const bytes = encodeGrpc({ cmd: 'PULL', queue: 'emails', timeout: null }, { kind: 'jobs', jobs: [j] });
  assert.deepEqual(decodeAs('Job', bytes), {
    id: 513,
    queue: 'emails',
    data: Buffer.from(j.data).toString('base64'),
    priority: -7,
    createdAt: j.createdAt,
    runAt: j.runAt,
    startedAt: j.startedAt,
    attempts: 2,
    maxAttempts: 5,
    backoff: 1000,
    ttl: 60_000,
    timeout: 30_000,
    uniqueKey: 'k-1',
    dependsOn: [257, 2 ** 40],
    progress: 40,
    progressMsg: 'halfway é',
    lifo: true,
  });
});

test('responses encode to what protobufjs reads', () => {
  const big = job({ id: 770, data: JSON.stringify({ s: 'y'.repeat(300) }), uniqueKey: null, progressMsg: null, dependsOn: [], priority: 2 ** 31 - 1 });
  const batch = decodeAs('PullBatchResponse', encodeGrpc({ cmd: 'PULLB', queue: 'q', count: 2, timeout: null }, { kind: 'jobs', jobs: [job(), big] }));
  assert.deepEqual((batch.jobs as Array<{ id: number }>).map((x) => x.id), [513, 770]);
  assert.equal((batch.jobs as Array<{ priority: number }>)[1]!.priority, 2 ** 31 - 1);
  assert.deepEqual(decodeAs('PushResponse', encodeGrpc({ cmd: 'PUSH', queue: 'q', job: null as never }, { kind: 'pushed', jobs: [job()] })), { ok: true, id: 513 });
  const ids = decodeAs('PushBatchResponse', encodeGrpc({ cmd: 'PUSHB', queue: 'q', jobs: [] }, { kind: 'pushed', jobs: [job(), big] }));
  assert.deepEqual(ids, { ok: true, ids: [513, 770] });
  assert.deepEqual(decodeAs('AckBatchResponse', encodeGrpc({ cmd: 'ACKB', ids: [] }, { kind: 'count', count: 7 })), { ok: true, acked: 7 });
  assert.deepEqual(decodeAs('GetStateResponse', encodeGrpc({ cmd: 'GETSTATE', id: 5 }, { kind: 'state', id: 5, state: 'waiting-children' })), {
    id: 5,
    state: 'JOB_STATE_WAITING_CHILDREN',
  });
  const stats = { queued: 1, processing: 2, delayed: 3, dlq: 4 };
  assert.deepEqual(decodeAs('StatsResponse', encodeGrpc({ cmd: 'STATS' }, { kind: 'stats', stats })), stats);
  assert.equal(encodeGrpc({ cmd: 'PULL', queue: 'q', timeout: null }, { kind: 'jobs', jobs: [] }).length, 0);
});

test('the front reads routing fields without decoding', () => {
  assert.equal(scanQueue(encode('PushBatchRequest', { jobs: [{ data: Buffer.from('1') }], queue: 'zz' })), 'zz');
  assert.equal(scanQueue(Buffer.from([0x0a, 0x05, 0x61])), null);
  assert.equal(scanId(encode('FailRequest', { id: 2 ** 45 + 3, error: 'x' })), 2 ** 45 + 3);
  assert.deepEqual(scanIds(encode('AckBatchRequest', { ids: [1, 2, 300] })), [1, 2, 300]);
  assert.equal(scanIds(encode('AckBatchRequest', { ids: [0] })), null);
  assert.deepEqual(scanStreamRequest(encode('StreamJobsRequest', { queue: 'q', batchSize: 10, prefetch: 20 })), { queue: 'q', batchSize: 10, prefetch: 20 });
  assert.equal(scanPlainSuccess(encode('JobResult', { id: 300, success: true })), 300);
  assert.equal(scanPlainSuccess(encode('JobResult', { id: 300, success: true, result: Buffer.from('1') })), 0);
  assert.equal(scanPlainSuccess(encode('JobResult', { id: 300, success: false, error: 'x' })), 0);
});

test('records the front builds decode like client requests', () => {
  assert.deepEqual(decodeGrpc(pullBatchRecord('q', 7)).request, { cmd: 'PULLB', queue: 'q', count: 7, timeout: null });
  assert.deepEqual(decodeGrpc(ackBatchRecord([257, 2 ** 33])).request, { cmd: 'ACKB', ids: [257, 2 ** 33] });
});
