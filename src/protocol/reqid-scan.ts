import { asBuffer, bytesEqual, shortText, utf8Text } from '../base/bytes.js';
import { JsonWalk, skipWs, stringToken } from './json-walk.js';
import { MsgpackWalk, skipMsgpack } from './msgpack-walk.js';

/**
 * The `reqId` of a request that was not decoded (an answer the front makes itself, or a line
 * that is not valid JSON), so the error answer can still echo it. Walks the whole top level with
 * the caller's walker when it passes one (decoders do), else with one made for the call (error
 * paths off any decoder).
 */

/** The top-level `reqId` (string or number) of JSON bytes; null when absent, of another type, or unreadable. */
export function scanJsonReqId(b: Uint8Array, start: number, end: number, walk: JsonWalk = new JsonWalk()): string | number | null {
  let i = skipWs(b, start, end);
  if (b[i] !== 0x7b) return null;
  i = skipWs(b, i + 1, end);
  let reqId: string | number | null = null;
  let seen = false;
  while (i < end && b[i] === 0x22) {
    walk.escaped = false;
    const ks = i;
    i = walk.skipString(b, i, end);
    if (i < 0) break;
    const isReqId = walk.escaped ? stringToken(b, ks, i) === 'reqId' : bytesEqual(b, ks + 1, i - 1, 'reqId');
    i = skipWs(b, i, end);
    if (b[i] !== 0x3a) break;
    const vs = skipWs(b, i + 1, end);
    i = walk.skipValue(b, vs, end);
    if (i < 0) break;
    if (isReqId) {
      // the last occurrence, as JSON.parse would see it
      seen = true;
      reqId = reqIdValue(b, vs, i);
    }
    i = skipWs(b, i, end);
    if (b[i] !== 0x2c) break;
    i = skipWs(b, i + 1, end);
  }
  return seen ? reqId : null;
}

function reqIdValue(b: Uint8Array, vs: number, ve: number): string | number | null {
  try {
    const v: unknown = JSON.parse(utf8Text(asBuffer(b), vs, ve));
    return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;
  } catch {
    return null;
  }
}

/** The top-level `reqId` of a MessagePack request (last occurrence), or null. */
export function scanMsgpackReqId(b: Uint8Array, start: number, end: number, mwalk: MsgpackWalk = new MsgpackWalk()): string | number | null {
  let count = mwalk.readMapHeader(b, start, end);
  if (count < 0) return null;
  let i = mwalk.next;
  let reqId: string | number | null = null;
  while (count-- > 0) {
    const ks = mwalk.readStr(b, i, end);
    const isReqId = ks >= 0 && bytesEqual(b, ks, mwalk.next, 'reqId');
    i = ks >= 0 ? mwalk.next : skipMsgpack(b, i, end);
    if (i < 0) break;
    if (isReqId) {
      const s = mwalk.readStr(b, i, end);
      if (s >= 0) reqId = shortText(b, s, mwalk.next);
      else {
        const v = mwalk.readNumber(b, i, end);
        reqId = Number.isFinite(v) ? v : null;
      }
    }
    i = skipMsgpack(b, i, end);
    if (i < 0) break;
  }
  return reqId;
}
