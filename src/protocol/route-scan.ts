import { lookup } from './fields.js';
import { bytesEqual, shortText } from '../base/bytes.js';
import { JsonWalk, skipWs, stringToken } from './json-walk.js';
import { MsgpackWalk, skipMsgpack } from './msgpack-walk.js';

/**
 * What the front reads of a request to pick its shard, without parsing the payload: the
 * top-level `cmd`, `queue`, `id`, `name` (CRON/CRONDELETE) and `token` (AUTH).
 *
 * A field the command needs comes back null / -1 when it is absent or is not a value the shard
 * will accept (not a string, a queue or name too long to be valid, an id that is not a positive
 * integer). The front may then send the request to any shard: the shard decodes it and answers the
 * error. Escapes are decoded (slow path), so a field read here equals what the shard decodes,
 * except with duplicate keys: the scanner keeps the first, JSON.parse the last. The shard must
 * therefore still check that it owns the queue / id it decoded.
 */
export interface Route {
  /** the bytes are not a JSON object / MessagePack map this walker could read */
  malformed: boolean;
  /** interned for known commands; other short strings as sent; null when absent or not a string */
  cmd: string | null;
  queue: string | null;
  /** -1 when absent or not a positive safe integer */
  id: number;
  name: string | null;
  token: string | null;
}

const Q = 1;
const I = 2;
const N = 4;
const T = 8;
/** never satisfied: keep walking (unknown command or no cmd yet) */
const ALL = 16;

/** Which routing fields each command needs; the scan stops once they are all found. */
const NEEDS = lookup<number>({
  PUSH: Q,
  PUSHB: Q,
  PULL: Q,
  PULLB: Q,
  DLQ: Q,
  RETRYDLQ: Q,
  RATELIMIT: Q,
  RATELIMITCLEAR: Q,
  SETCONCURRENCY: Q,
  CLEARCONCURRENCY: Q,
  PAUSE: Q,
  RESUME: Q,
  ACK: I,
  FAIL: I,
  CANCEL: I,
  PROGRESS: I,
  GETPROGRESS: I,
  GETJOB: I,
  GETSTATE: I,
  GETRESULT: I,
  CRON: Q | N,
  CRONDELETE: N,
  AUTH: T,
  ACKB: 0,
  LISTQUEUES: 0,
  CRONLIST: 0,
  STATS: 0,
  METRICS: 0,
  JOBS: 0,
});

/** Known command names by byte length, so a cmd is matched without building a string. */
const KNOWN_BY_LENGTH: string[][] = [];
for (const cmd of Object.keys(NEEDS)) (KNOWN_BY_LENGTH[cmd.length] ??= []).push(cmd);

/** Longer names and queues are invalid anyway (256 characters, at most 6 bytes each escaped). */
const MAX_NAME_BYTES = 2048;
const MAX_CMD_BYTES = 64;
const MAX_TOKEN_BYTES = 4096;

function commandText(b: Uint8Array, s: number, e: number): string {
  const known = KNOWN_BY_LENGTH[e - s];
  if (known !== undefined) {
    for (const cmd of known) if (bytesEqual(b, s, e, cmd)) return cmd;
  }
  return shortText(b, s, e);
}

function malformed(r: Route): Route {
  r.malformed = true;
  return r;
}

function positiveId(v: number): number {
  return Number.isSafeInteger(v) && v > 0 ? v : -1;
}

/** what a field means to the scanner */
const enum Field {
  Other,
  Cmd,
  Queue,
  Id,
  Name,
  Token,
}

function fieldOf(key: string): Field {
  switch (key) {
    case 'cmd':
      return Field.Cmd;
    case 'queue':
      return Field.Queue;
    case 'id':
      return Field.Id;
    case 'name':
      return Field.Name;
    case 'token':
      return Field.Token;
    default:
      return Field.Other;
  }
}

function fieldOfBytes(b: Uint8Array, s: number, e: number): Field {
  switch (e - s) {
    case 2:
      return b[s] === 0x69 && b[s + 1] === 0x64 ? Field.Id : Field.Other;
    case 3:
      return bytesEqual(b, s, e, 'cmd') ? Field.Cmd : Field.Other;
    case 4:
      return bytesEqual(b, s, e, 'name') ? Field.Name : Field.Other;
    case 5:
      return bytesEqual(b, s, e, 'queue') ? Field.Queue : bytesEqual(b, s, e, 'token') ? Field.Token : Field.Other;
    default:
      return Field.Other;
  }
}

/**
 * One scanner per owner (a front's TCP router): the reused Route, the queue memo and the walkers
 * are its own, so scans of different owners can interleave.
 */
export class RouteScanner {
  private readonly route: Route = { malformed: false, cmd: null, queue: null, id: -1, name: null, token: null };
  // One-entry cache: a connection usually repeats its queue, so most scans return the cached
  // string without allocating.
  private lastQueue = '';
  private lastQueueBytes = new Uint8Array(0);
  /** end of the value scanned last by jsonString / jsonId / msgpackString */
  private valueEnd = 0;
  private readonly walk = new JsonWalk();
  private readonly mwalk = new MsgpackWalk();

  private cachedQueue(b: Uint8Array, s: number, e: number): string {
    const n = e - s;
    if (n === this.lastQueueBytes.length) {
      let k = 0;
      while (k < n && b[s + k] === this.lastQueueBytes[k]) k++;
      if (k === n) return this.lastQueue;
    }
    this.lastQueue = shortText(b, s, e);
    // a copy: the input may be a chunk or ring memory that is reused (Buffer#slice would be a view)
    this.lastQueueBytes = new Uint8Array(n);
    this.lastQueueBytes.set(b.subarray(s, e));
    return this.lastQueue;
  }

  private reset(): Route {
    this.route.malformed = false;
    this.route.cmd = null;
    this.route.queue = null;
    this.route.id = -1;
    this.route.name = null;
    this.route.token = null;
    return this.route;
  }

  // ---------------------------------------------------------------- JSON

  /** vs at a value: its text when it is a string of at most max bytes, else null; -1 in valueEnd when malformed */
  private jsonString(b: Uint8Array, vs: number, end: number, max: number, field: Field): string | null {
    if (b[vs] !== 0x22) {
      this.valueEnd = this.walk.skipValue(b, vs, end);
      return null;
    }
    this.walk.escaped = false;
    const qe = this.walk.skipString(b, vs, end);
    this.valueEnd = qe;
    if (qe < 0 || qe - vs - 2 > max) return null;
    if (this.walk.escaped) return stringToken(b, vs, qe);
    if (field === Field.Cmd) return commandText(b, vs + 1, qe - 1);
    if (field === Field.Queue) return this.cachedQueue(b, vs + 1, qe - 1);
    return shortText(b, vs + 1, qe - 1);
  }

  private jsonId(b: Uint8Array, vs: number, end: number): number {
    let i = vs;
    let v = 0;
    while (i < end) {
      const c = b[i]!;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      i++;
    }
    const c = b[i];
    if (i > vs && i - vs <= 16 && (c === 0x2c || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) {
      this.valueEnd = i;
      return positiveId(v);
    }
    this.valueEnd = this.walk.skipValue(b, vs, end);
    if (this.valueEnd < 0) return -1;
    // 1e3, 5.0, a long or signed literal: exactly as JSON.parse reads it; strings are not ids
    const c0 = b[vs]!;
    if (c0 !== 0x2d && (c0 < 0x30 || c0 > 0x39)) return -1;
    return positiveId(Number(shortText(b, vs, this.valueEnd)));
  }

  /**
   * Scan the JSON object in buf[start, end). Returns a reused object, valid until the next scan.
   * Only top-level keys count; nested values are skipped by a depth-aware walker.
   */
  scanJson(b: Uint8Array, start: number, end: number): Route {
    const r = this.reset();
    let i = skipWs(b, start, end);
    if (b[i] !== 0x7b) return malformed(r);
    i = skipWs(b, i + 1, end);
    if (b[i] === 0x7d) return r;
    let need = ALL;
    let found = 0;
    while (i < end) {
      if (b[i] !== 0x22) return malformed(r);
      this.walk.escaped = false;
      const ks = i;
      i = this.walk.skipString(b, i, end);
      if (i < 0) return malformed(r);
      const field = this.walk.escaped ? fieldOf(stringToken(b, ks, i) ?? '') : fieldOfBytes(b, ks + 1, i - 1);
      i = skipWs(b, i, end);
      if (b[i] !== 0x3a) return malformed(r);
      const vs = skipWs(b, i + 1, end);
      if (field === Field.Other) {
        i = this.walk.skipValue(b, vs, end);
      } else {
        const seen = field === Field.Queue ? Q : field === Field.Id ? I : field === Field.Name ? N : field === Field.Token ? T : 0;
        if (found & seen || (field === Field.Cmd && r.cmd !== null)) {
          i = this.walk.skipValue(b, vs, end); // first occurrence wins
        } else {
          switch (field) {
            case Field.Cmd:
              r.cmd = this.jsonString(b, vs, end, MAX_CMD_BYTES, field);
              need = r.cmd === null ? ALL : (NEEDS[r.cmd] ?? ALL);
              break;
            case Field.Queue:
              r.queue = this.jsonString(b, vs, end, MAX_NAME_BYTES, field);
              break;
            case Field.Name:
              r.name = this.jsonString(b, vs, end, MAX_NAME_BYTES, field);
              break;
            case Field.Token:
              r.token = this.jsonString(b, vs, end, MAX_TOKEN_BYTES, field);
              break;
            default:
              r.id = this.jsonId(b, vs, end);
          }
          found |= seen;
          i = this.valueEnd;
        }
      }
      if (i < 0) return malformed(r);
      if ((found & need) === need) return r;
      i = skipWs(b, i, end);
      if (b[i] === 0x2c) {
        i = skipWs(b, i + 1, end);
        continue;
      }
      return b[i] === 0x7d ? r : malformed(r);
    }
    return malformed(r);
  }

  // ---------------------------------------------------------------- MessagePack

  private msgpackString(b: Uint8Array, vs: number, end: number, max: number, field: Field): string | null {
    const s = this.mwalk.readStr(b, vs, end);
    if (s < 0) {
      this.valueEnd = skipMsgpack(b, vs, end);
      return null;
    }
    const e = this.mwalk.next;
    this.valueEnd = e;
    if (e - s > max) return null;
    if (field === Field.Cmd) return commandText(b, s, e);
    if (field === Field.Queue) return this.cachedQueue(b, s, e);
    return shortText(b, s, e);
  }

  /** Scan the MessagePack map in buf[start, end); same contract as scanJson. */
  scanMsgpack(b: Uint8Array, start: number, end: number): Route {
    const r = this.reset();
    let count = this.mwalk.readMapHeader(b, start, end);
    if (count < 0) return malformed(r);
    let i = this.mwalk.next;
    let need = ALL;
    let found = 0;
    while (count-- > 0) {
      const ks = this.mwalk.readStr(b, i, end);
      let field = Field.Other;
      if (ks >= 0) {
        field = fieldOfBytes(b, ks, this.mwalk.next);
        i = this.mwalk.next;
      } else {
        i = skipMsgpack(b, i, end);
        if (i < 0) return malformed(r);
      }
      const seen = field === Field.Queue ? Q : field === Field.Id ? I : field === Field.Name ? N : field === Field.Token ? T : 0;
      if (field === Field.Other || found & seen || (field === Field.Cmd && r.cmd !== null)) {
        i = skipMsgpack(b, i, end);
      } else {
        switch (field) {
          case Field.Cmd:
            r.cmd = this.msgpackString(b, i, end, MAX_CMD_BYTES, field);
            need = r.cmd === null ? ALL : (NEEDS[r.cmd] ?? ALL);
            break;
          case Field.Queue:
            r.queue = this.msgpackString(b, i, end, MAX_NAME_BYTES, field);
            break;
          case Field.Name:
            r.name = this.msgpackString(b, i, end, MAX_NAME_BYTES, field);
            break;
          case Field.Token:
            r.token = this.msgpackString(b, i, end, MAX_TOKEN_BYTES, field);
            break;
          default: {
            const v = this.mwalk.readNumber(b, i, end);
            if (Number.isNaN(v)) {
              r.id = -1;
              this.valueEnd = skipMsgpack(b, i, end);
            } else {
              r.id = positiveId(v);
              this.valueEnd = this.mwalk.next;
            }
          }
        }
        found |= seen;
        i = this.valueEnd;
      }
      if (i < 0) return malformed(r);
      if ((found & need) === need) return r;
    }
    return r;
  }
}
