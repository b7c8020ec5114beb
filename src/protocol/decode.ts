import { Unpackr } from 'msgpackr';
import { asBuffer } from '../base/bytes.js';
import { DEFAULT_MAX_BATCH, type DecodeOptions, OBJECT_COMMANDS } from './commands.js';
import { decodeHttp } from './decode-http.js';
import { asDecodeError, DecodeError, type Decoded, parseJson, type ReqId } from './decode-error.js';
import { errors, PAYLOAD_LIMIT } from '../base/errors.js';
import { isObj, type Obj } from './fields.js';
import { parsePushLite } from './json-lite.js';
import { RawJsonSource, StringifySource } from './payload-text.js';
import { Format } from './result.js';
import { scanMsgpackReqId } from './reqid-scan.js';
import { decodeGrpc } from './grpc-codec.js';

export type { DecodeOptions } from './commands.js';
export { DecodeError, type Decoded, type ReqId } from './decode-error.js';

export const DEFAULT_DECODE_OPTIONS: Readonly<DecodeOptions> = Object.freeze({
  maxBatch: DEFAULT_MAX_BATCH,
  payloadLimit: PAYLOAD_LIMIT,
});

export type FormatDecoder = (bytes: Uint8Array, opts: DecodeOptions) => Decoded;

/** One decoder per Format; gRPC registers its own. */
const DECODERS: Array<FormatDecoder | undefined> = [];

export function registerDecoder(format: Format, decoder: FormatDecoder): void {
  DECODERS[format] = decoder;
}

/**
 * Decode and validate one request (in the shard). Throws DecodeError, whose message is the
 * error answer's text, when the bytes are not a valid request.
 */
export function decodeRequest(format: Format, bytes: Uint8Array, opts: DecodeOptions = DEFAULT_DECODE_OPTIONS): Decoded {
  const decoder = DECODERS[format];
  if (decoder === undefined) throw new DecodeError(errors.internal(`no decoder for format ${format}`), null);
  try {
    return decoder(bytes, opts);
  } catch (e) {
    throw asDecodeError(e, null);
  }
}

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

// Sources are reused: decoding is synchronous and a shard decodes one request at a time.
const rawSources = new Map<number, RawJsonSource>();
const stringifySources = new Map<number, StringifySource>();

function rawSource(limit: number): RawJsonSource {
  let s = rawSources.get(limit);
  if (s === undefined) rawSources.set(limit, (s = new RawJsonSource(limit)));
  return s;
}

function stringifySource(limit: number): StringifySource {
  let s = stringifySources.get(limit);
  if (s === undefined) stringifySources.set(limit, (s = new StringifySource(limit)));
  return s;
}

const PUSH_MARK = Buffer.from('"PUSH');

/** TCP JSON lines and Internal: one JSON object, fields at the top level. */
export function decodeJson(bytes: Uint8Array, opts: DecodeOptions, lite = true): Decoded {
  const buf = asBuffer(bytes);
  const raw = rawSource(opts.payloadLimit ?? PAYLOAD_LIMIT).reset(buf, 0, buf.length, false);
  // PUSH/PUSHB carry the bulk of all payload bytes: parse them without building the jobs' data;
  // other lines skip the attempt (a native substring search is cheaper than the lite parser's bail)
  if (lite && buf.indexOf(PUSH_MARK) >= 0) {
    const o = parsePushLite(buf, raw);
    if (o !== null) return commandOf(o, opts, raw, reqIdOf(o.reqId));
    raw.reset(buf, 0, buf.length, false);
  }
  const o = parseJson(buf, true);
  // a line of valid JSON that is no object is not a request either (compat.md: `Invalid JSON`)
  if (!isObj(o)) throw new DecodeError(errors.invalidJson(`a request must be an object, got ${jsonKind(o)}`), null);
  return commandOf(o, opts, raw, reqIdOf(o.reqId));
}

function jsonKind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

// 64-bit integers (how non-JS clients send large ids and times) decode as numbers when they fit in
// 2^53; msgpackr's default would make every one a BigInt, which no field accepts. Larger ones stay
// BigInt ('auto', supported at run time but missing from the typings) so a payload holding one is
// refused rather than silently rounded.
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'auto' as 'number' });

/** TCP MessagePack: one map with the same fields; payload values become JSON text via JSON.stringify. */
function decodeMsgpack(bytes: Uint8Array, opts: DecodeOptions): Decoded {
  let o: unknown;
  // msgpackr's native string extractor refuses views of shared memory (a shard reads requests
  // straight from its ring), so such bytes are copied once
  if (bytes.buffer instanceof SharedArrayBuffer) bytes = Uint8Array.prototype.slice.call(bytes) as Uint8Array;
  try {
    o = unpackr.unpack(bytes);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new DecodeError(errors.invalidMsgpack(detail), scanMsgpackReqId(bytes, 0, bytes.length));
  }
  if (!isObj(o) || Object.getPrototypeOf(o) !== Object.prototype) throw new DecodeError(errors.badRequest('Request must be a MessagePack map with string keys'), null);
  return commandOf(o, opts, stringifySource(opts.payloadLimit ?? PAYLOAD_LIMIT), reqIdOf(o.reqId));
}

registerDecoder(Format.TcpJson, (bytes, opts) => decodeJson(bytes, opts));
registerDecoder(Format.Internal, (bytes, opts) => decodeJson(bytes, opts));
registerDecoder(Format.TcpMsgpack, decodeMsgpack);
registerDecoder(Format.Http, (bytes, opts) => ({ request: decodeHttp(asBuffer(bytes), opts, rawSource(opts.payloadLimit ?? PAYLOAD_LIMIT)), reqId: null }));
registerDecoder(Format.Grpc, decodeGrpc);
