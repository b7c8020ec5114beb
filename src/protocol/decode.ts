import { Unpackr } from 'msgpackr';
import { asBuffer } from '../base/bytes.js';
import { DEFAULT_MAX_BATCH, type DecodeOptions, OBJECT_COMMANDS } from './commands.js';
import { decodeHttp } from './decode-http.js';
import { asDecodeError, DecodeError, type Decoded, parseJson, type ReqId } from './decode-error.js';
import { errors, PAYLOAD_LIMIT } from '../base/errors.js';
import { isObj, type Obj } from './fields.js';
import { PushLiteParser } from './json-lite.js';
import { JsonWalk } from './json-walk.js';
import { MsgpackWalk } from './msgpack-walk.js';
import { RawJsonSource, StringifySource } from './payload-text.js';
import { Format } from './result.js';
import { scanMsgpackReqId } from './reqid-scan.js';
import { GrpcDecoder } from './grpc-decode.js';

export type { DecodeOptions } from './commands.js';
export { DecodeError, type Decoded, type ReqId } from './decode-error.js';

export const DEFAULT_DECODE_OPTIONS: Readonly<DecodeOptions> = Object.freeze({
  maxBatch: DEFAULT_MAX_BATCH,
  payloadLimit: PAYLOAD_LIMIT,
});

function reqIdOf(v: unknown): ReqId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;
}

function commandOf(o: Obj, opts: DecodeOptions, payload: RawJsonSource | StringifySource, reqId: ReqId): Decoded {
  const cmd = o.cmd;
  if (cmd === undefined || cmd === null) throw new DecodeError(errors.badRequest('Missing field "cmd"'), reqId);
  if (typeof cmd !== 'string') throw new DecodeError(errors.badRequest('Invalid field "cmd": expected a string'), reqId);
  const decode = OBJECT_COMMANDS[cmd];
  if (decode === undefined) throw new DecodeError(errors.unknownCommand(cmd), reqId);
  try {
    return { request: decode(o, payload, opts), reqId };
  } catch (e) {
    throw asDecodeError(e, reqId);
  }
}

function jsonKind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

const PUSH_MARK = Buffer.from('"PUSH');

/**
 * Decodes and validates requests of every format. Each owner (a shard, the front's fanout) makes
 * one and keeps it: the parsers, walkers and payload sources inside are reused from request to
 * request (no allocation per call) and belong to this decoder only, so two decoders never see
 * each other's partial state.
 */
export class RequestDecoder {
  // Sources are reused: a decode is synchronous, and a source is read only until the decode returns.
  private readonly rawSources = new Map<number, RawJsonSource>();
  private readonly stringifySources = new Map<number, StringifySource>();
  private readonly lite = new PushLiteParser();
  private readonly grpc = new GrpcDecoder();
  private readonly walk = new JsonWalk();
  private readonly mwalk = new MsgpackWalk();
  // 64-bit integers (how non-JS clients send large ids and times) decode as numbers when they fit in
  // 2^53; msgpackr's default would make every one a BigInt, which no field accepts. Larger ones stay
  // BigInt ('auto', supported at run time but missing from the typings) so a payload holding one is
  // refused rather than silently rounded.
  private readonly unpackr = new Unpackr({ useRecords: false, int64AsType: 'auto' as 'number' });

  /**
   * Decode and validate one request. Throws DecodeError, whose message is the error answer's
   * text, when the bytes are not a valid request.
   */
  decode(format: Format, bytes: Uint8Array, opts: DecodeOptions = DEFAULT_DECODE_OPTIONS): Decoded {
    try {
      switch (format) {
        case Format.TcpJson:
        case Format.Internal:
          return this.json(bytes, opts);
        case Format.TcpMsgpack:
          return this.msgpack(bytes, opts);
        case Format.Http:
          return { request: decodeHttp(asBuffer(bytes), opts, this.rawSource(opts.payloadLimit ?? PAYLOAD_LIMIT), this.walk), reqId: null };
        case Format.Grpc:
          return this.grpc.decode(bytes, opts);
        default:
          throw new DecodeError(errors.internal(`no decoder for format ${String(format)}`), null);
      }
    } catch (e) {
      throw asDecodeError(e, null);
    }
  }

  /** TCP JSON lines and Internal: one JSON object, fields at the top level. */
  json(bytes: Uint8Array, opts: DecodeOptions, lite = true): Decoded {
    const buf = asBuffer(bytes);
    const raw = this.rawSource(opts.payloadLimit ?? PAYLOAD_LIMIT).reset(buf, 0, buf.length, false);
    // PUSH/PUSHB carry the bulk of all payload bytes: parse them without building the jobs' data;
    // other lines skip the attempt (a native substring search is cheaper than the lite parser's bail)
    if (lite && buf.indexOf(PUSH_MARK) >= 0) {
      const o = this.lite.parse(buf, raw);
      if (o !== null) return commandOf(o, opts, raw, reqIdOf(o.reqId));
      raw.reset(buf, 0, buf.length, false);
    }
    const o = parseJson(buf, this.walk);
    // a line of valid JSON that is no object is not a request either (compat.md: `Invalid JSON`)
    if (!isObj(o)) throw new DecodeError(errors.invalidJson(`a request must be an object, got ${jsonKind(o)}`), null);
    return commandOf(o, opts, raw, reqIdOf(o.reqId));
  }

  /** TCP MessagePack: one map with the same fields; payload values become JSON text via JSON.stringify. */
  private msgpack(bytes: Uint8Array, opts: DecodeOptions): Decoded {
    let o: unknown;
    // msgpackr's native string extractor refuses views of shared memory (a shard reads requests
    // straight from its ring), so such bytes are copied once
    if (bytes.buffer instanceof SharedArrayBuffer) bytes = Uint8Array.prototype.slice.call(bytes) as Uint8Array;
    try {
      o = this.unpackr.unpack(bytes);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      throw new DecodeError(errors.invalidMsgpack(detail), scanMsgpackReqId(bytes, 0, bytes.length, this.mwalk));
    }
    if (!isObj(o) || Object.getPrototypeOf(o) !== Object.prototype) throw new DecodeError(errors.badRequest('Request must be a MessagePack map with string keys'), null);
    return commandOf(o, opts, this.stringifySource(opts.payloadLimit ?? PAYLOAD_LIMIT), reqIdOf(o.reqId));
  }

  private rawSource(limit: number): RawJsonSource {
    let s = this.rawSources.get(limit);
    if (s === undefined) this.rawSources.set(limit, (s = new RawJsonSource(limit)));
    return s;
  }

  private stringifySource(limit: number): StringifySource {
    let s = this.stringifySources.get(limit);
    if (s === undefined) this.stringifySources.set(limit, (s = new StringifySource(limit)));
    return s;
  }
}
