import type { JobInput } from '../engine/types.js';
import { attemptsOf, backoffOf } from '../engine/job-defaults.js';
import { asBuffer, shortText, utf8Text } from '../base/bytes.js';
import { DEFAULT_MAX_BATCH, type DecodeOptions, queueField } from './commands.js';
import type { Decoded } from './decode-error.js';
import { errors, FlashqError, PAYLOAD_LIMIT } from '../base/errors.js';
import { fieldName, invalidField, MAX_SAFE, missingField, NO_IDS, NO_TAGS } from './fields.js';
import { JsonValidator } from './json-validate.js';
import { skipWs } from './json-walk.js';
import { malformed, ProtoReader, WIRE_LEN, WIRE_VARINT } from './grpc-wire.js';
import type { Request } from './request.js';

/**
 * gRPC requests in the shard: a record is `[method id][protobuf request]`, decoded by hand into
 * a Request and validated like TCP (same helpers, same texts; field names are the proto's).
 */

export const GrpcMethod = {
  Push: 1,
  PushBatch: 2,
  Pull: 3,
  PullBatch: 4,
  Ack: 5,
  AckBatch: 6,
  Fail: 7,
  GetState: 8,
  Stats: 9,
  /** a ProcessJobs JobResult: ACK on success, FAIL otherwise */
  JobResult: 10,
} as const;

const DEFAULT_OPTS: DecodeOptions = { maxBatch: DEFAULT_MAX_BATCH, payloadLimit: PAYLOAD_LIMIT };

function wrongType(key: string, index: number): FlashqError {
  return invalidField(key, index, 'wrong protobuf wire type');
}

function expect(wt: number, want: number, key: string, index: number): void {
  if (wt !== want) throw wrongType(key, index);
}

/** Flat messages: each field's value by number (strings/bytes as [start, end) spans). */
interface Flat {
  queue: string;
  id: number;
  count: number;
  success: boolean;
  /** optional bytes/string fields: -1 when absent */
  optStart: number;
  optEnd: number;
  optField: number;
  ids: number[];
}

function needId(f: Flat): number {
  if (f.id === 0) throw missingField('id', -1);
  return f.id;
}

function optText(b: Uint8Array, f: Flat, field: number): string | null {
  return f.optField === field ? utf8Text(asBuffer(b), f.optStart, f.optEnd) : null;
}

/**
 * One decoder per owner (a shard, the front's fanout): the reader cursor, the validator, the
 * PushBatch spans and the last queue read are its own, so decodes of different owners interleave.
 */
export class GrpcDecoder {
  private readonly rd = new ProtoReader();
  private readonly valid = new JsonValidator();
  /** Start/end of each JobInput of a PushBatchRequest (reused). */
  private spans = new Int32Array(2 * 1024);
  /** the queue field of the PushRequest being read (readJob with shift 1) */
  private lastQueue = '';

  /** uint64 fields that the server keeps as safe integers (ms, ids). */
  private safeUint(b: Uint8Array, end: number, key: string, index: number, min: number): number {
    const v = this.rd.readVarint(b, end);
    if (v < min || v > MAX_SAFE) throw invalidField(key, index, `out of range (${min}..${MAX_SAFE})`);
    return v;
  }

  /**
   * A JSON payload carried as bytes, kept as its text. Validated by the byte validator the TCP
   * path uses (no objects built); JSON.parse runs only to word a refusal, and to re-serialise text
   * with raw line breaks, since TCP answers embed stored text in one line.
   */
  private jsonText(b: Uint8Array, s: number, e: number, key: string, index: number, limit: number): string {
    if (e - s > limit) {
      const err = errors.payloadTooLarge(e - s, limit);
      throw index < 0 ? err : new FlashqError(err.code, `${err.message} at ${fieldName(key, index)}`);
    }
    const buf = asBuffer(b);
    const vs = skipWs(b, s, e);
    const ve = this.valid.validValue(b, vs, e);
    // surrounding whitespace is dropped: it may hold line breaks too
    if (ve >= 0 && skipWs(b, ve, e) === e && !this.valid.newline) return utf8Text(buf, vs, ve);
    const text = utf8Text(buf, s, e);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw errors.invalidJson(`${err instanceof Error ? err.message : String(err)} (in "${fieldName(key, index)}")`);
    }
    return JSON.stringify(value);
  }

  /** Repeated uint64 ids, packed or not, appended to `out`. */
  private readIds(b: Uint8Array, end: number, wt: number, out: number[], key: string, index: number, max: number): void {
    const rd = this.rd;
    if (wt === WIRE_VARINT) {
      out.push(this.safeUint(b, end, `${key}[${out.length}]`, index, 1));
    } else if (wt === WIRE_LEN) {
      const n = rd.readLength(b, end);
      const stop = rd.pos + n;
      while (rd.pos < stop) out.push(this.safeUint(b, stop, `${key}[${out.length}]`, index, 1));
    } else throw wrongType(key, index);
    if (out.length > max) throw index < 0 ? errors.batchTooLarge(max) : invalidField(key, index, `at most ${max} ids`);
  }

  /**
   * A job's fields: JobInput (shift 0) or PushRequest (shift 1, whose field 1 is the queue, left
   * in this.lastQueue). `0` for max_attempts/ttl/timeout/backoff means "not set".
   */
  private readJob(b: Uint8Array, start: number, end: number, shift: number, index: number, opts: DecodeOptions): JobInput {
    const rd = this.rd;
    let ds = -1;
    let de = -1;
    let priority = 0;
    let delay = 0;
    let ttl = 0;
    let timeout = 0;
    let maxAttempts = 0;
    let backoff = 0;
    let uniqueKey: string | null = null;
    let dependsOn: number[] = NO_IDS;
    let lifo = false;
    rd.pos = start;
    while (rd.pos < end) {
      const tag = rd.readVarint(b, end);
      const wt = tag & 7;
      switch (Math.floor(tag / 8) - shift) {
        case 0: {
          if (shift === 0) {
            rd.skipField(b, end, wt);
            break;
          }
          expect(wt, WIRE_LEN, 'queue', index);
          const n = rd.readLength(b, end);
          this.lastQueue = shortText(b, rd.pos, rd.pos + n);
          rd.pos += n;
          break;
        }
        case 1: {
          expect(wt, WIRE_LEN, 'data', index);
          const n = rd.readLength(b, end);
          ds = rd.pos;
          de = ds + n;
          rd.pos = de;
          break;
        }
        case 2:
          expect(wt, WIRE_VARINT, 'priority', index);
          rd.readVarint(b, end);
          priority = rd.lo;
          break;
        case 3:
          expect(wt, WIRE_VARINT, 'delay_ms', index);
          delay = this.safeUint(b, end, 'delay_ms', index, 0);
          break;
        case 4:
          expect(wt, WIRE_VARINT, 'ttl_ms', index);
          ttl = this.safeUint(b, end, 'ttl_ms', index, 0);
          break;
        case 5:
          expect(wt, WIRE_VARINT, 'timeout_ms', index);
          timeout = this.safeUint(b, end, 'timeout_ms', index, 0);
          break;
        case 6:
          expect(wt, WIRE_VARINT, 'max_attempts', index);
          rd.readVarint(b, end);
          maxAttempts = rd.lo >>> 0;
          break;
        case 7:
          expect(wt, WIRE_VARINT, 'backoff_ms', index);
          backoff = this.safeUint(b, end, 'backoff_ms', index, 0);
          break;
        case 8: {
          expect(wt, WIRE_LEN, 'unique_key', index);
          const n = rd.readLength(b, end);
          uniqueKey = shortText(b, rd.pos, rd.pos + n);
          rd.pos += n;
          break;
        }
        case 9:
          if (dependsOn === NO_IDS) dependsOn = [];
          this.readIds(b, end, wt, dependsOn, 'depends_on', index, opts.maxBatch);
          break;
        case 10:
          expect(wt, WIRE_VARINT, 'lifo', index);
          lifo = rd.readVarint(b, end) !== 0;
          break;
        default:
          rd.skipField(b, end, wt);
      }
    }
    // same order as TCP: the queue is checked before the payload
    if (shift === 1) queueField(this.lastQueue);
    if (ds < 0 || de === ds) throw missingField('data', index);
    const after = rd.pos;
    const data = this.jsonText(b, ds, de, 'data', index, opts.payloadLimit ?? PAYLOAD_LIMIT);
    rd.pos = after;
    return {
      data,
      priority,
      delay,
      ttl,
      timeout,
      maxAttempts: attemptsOf(maxAttempts),
      backoff: backoffOf(backoff === 0 ? undefined : backoff),
      uniqueKey,
      dependsOn,
      tags: NO_TAGS,
      lifo,
    };
  }

  private decodePushBatch(b: Uint8Array, start: number, end: number, opts: DecodeOptions): Request {
    const rd = this.rd;
    let queue = '';
    let n = 0;
    rd.pos = start;
    while (rd.pos < end) {
      const tag = rd.readVarint(b, end);
      const wt = tag & 7;
      if (tag === 0x0a) {
        const len = rd.readLength(b, end);
        queue = shortText(b, rd.pos, rd.pos + len);
        rd.pos += len;
      } else if (tag >>> 3 === 2) {
        expect(wt, WIRE_LEN, 'jobs', -1);
        const len = rd.readLength(b, end);
        if (n >= opts.maxBatch) throw errors.batchTooLarge(opts.maxBatch);
        if (2 * n + 2 > this.spans.length) {
          const grown = new Int32Array(this.spans.length * 2);
          grown.set(this.spans);
          this.spans = grown;
        }
        this.spans[2 * n] = rd.pos;
        this.spans[2 * n + 1] = rd.pos + len;
        n++;
        rd.pos += len;
      } else rd.skipField(b, end, wt);
    }
    const q = queueField(queue);
    const jobs = new Array<JobInput>(n);
    for (let i = 0; i < n; i++) jobs[i] = this.readJob(b, this.spans[2 * i]!, this.spans[2 * i + 1]!, 0, i, opts);
    return { cmd: 'PUSHB', queue: q, jobs };
  }

  private readId(b: Uint8Array, end: number, wt: number): number {
    expect(wt, WIRE_VARINT, 'id', -1);
    const id = this.rd.readVarint(b, end);
    if (id > MAX_SAFE) throw invalidField('id', -1, `out of range (1..${MAX_SAFE})`);
    return id;
  }

  /**
   * Fields 1..4 of the small messages: 1 = queue (string) or id (varint) or ids (repeated);
   * 2 = count / success (varint) or result / error (length-delimited); 3, 4 = JobResult's
   * result / error.
   */
  private readFlat(b: Uint8Array, start: number, end: number, method: number, opts: DecodeOptions): Flat {
    const rd = this.rd;
    const f: Flat = { queue: '', id: 0, count: 0, success: false, optStart: -1, optEnd: -1, optField: 0, ids: NO_IDS };
    rd.pos = start;
    while (rd.pos < end) {
      const tag = rd.readVarint(b, end);
      const wt = tag & 7;
      const field = Math.floor(tag / 8);
      if (field === 1) {
        if (method === GrpcMethod.AckBatch) {
          if (f.ids === NO_IDS) f.ids = [];
          this.readIds(b, end, wt, f.ids, 'ids', -1, opts.maxBatch);
        } else if (wt === WIRE_LEN) {
          const n = rd.readLength(b, end);
          f.queue = shortText(b, rd.pos, rd.pos + n);
          rd.pos += n;
        } else f.id = this.readId(b, end, wt);
      } else if (field >= 2 && field <= 4 && wt === WIRE_LEN) {
        const n = rd.readLength(b, end);
        f.optStart = rd.pos;
        f.optEnd = rd.pos + n;
        f.optField = field;
        rd.pos += n;
      } else if (field === 2 && wt === WIRE_VARINT) {
        const v = rd.readVarint(b, end);
        f.count = v;
        f.success = v !== 0;
      } else rd.skipField(b, end, wt);
    }
    return f;
  }

  /** An ack result: JSON bytes when present and non-empty, else none. */
  private optResult(b: Uint8Array, f: Flat, field: number, opts: DecodeOptions): string | null {
    if (f.optField !== field || f.optEnd === f.optStart) return null;
    return this.jsonText(b, f.optStart, f.optEnd, 'result', -1, opts.payloadLimit ?? PAYLOAD_LIMIT);
  }

  /** Decode one gRPC request record `[method][protobuf]` (in the shard). Throws FlashqError. */
  decode(bytes: Uint8Array, opts: DecodeOptions = DEFAULT_OPTS): Decoded {
    if (bytes.length === 0) throw malformed('empty record');
    const method = bytes[0]!;
    const end = bytes.length;
    let request: Request;
    switch (method) {
      case GrpcMethod.Push: {
        this.lastQueue = '';
        const job = this.readJob(bytes, 1, end, 1, -1, opts);
        request = { cmd: 'PUSH', queue: queueField(this.lastQueue), job };
        break;
      }
      case GrpcMethod.PushBatch:
        request = this.decodePushBatch(bytes, 1, end, opts);
        break;
      case GrpcMethod.Pull:
        request = { cmd: 'PULL', queue: queueField(this.readFlat(bytes, 1, end, method, opts).queue), timeout: null };
        break;
      case GrpcMethod.PullBatch: {
        const f = this.readFlat(bytes, 1, end, method, opts);
        const queue = queueField(f.queue);
        // proto3 cannot tell 0 from absent: 0 asks for the default, one job
        const count = f.count === 0 ? 1 : f.count;
        if (count > opts.maxBatch) throw errors.batchTooLarge(opts.maxBatch);
        request = { cmd: 'PULLB', queue, count, timeout: null };
        break;
      }
      case GrpcMethod.Ack: {
        const f = this.readFlat(bytes, 1, end, method, opts);
        request = { cmd: 'ACK', id: needId(f), result: this.optResult(bytes, f, 2, opts) };
        break;
      }
      case GrpcMethod.AckBatch:
        request = { cmd: 'ACKB', ids: this.readFlat(bytes, 1, end, method, opts).ids };
        break;
      case GrpcMethod.Fail: {
        const f = this.readFlat(bytes, 1, end, method, opts);
        request = { cmd: 'FAIL', id: needId(f), error: optText(bytes, f, 2) };
        break;
      }
      case GrpcMethod.GetState:
        request = { cmd: 'GETSTATE', id: needId(this.readFlat(bytes, 1, end, method, opts)) };
        break;
      case GrpcMethod.Stats:
        request = { cmd: 'STATS' };
        break;
      case GrpcMethod.JobResult: {
        const f = this.readFlat(bytes, 1, end, method, opts);
        const id = needId(f);
        request = f.success ? { cmd: 'ACK', id, result: this.optResult(bytes, f, 3, opts) } : { cmd: 'FAIL', id, error: optText(bytes, f, 4) };
        break;
      }
      default:
        throw errors.badRequest(`Unknown gRPC method ${method}`);
    }
    return { request, reqId: null };
  }
}
