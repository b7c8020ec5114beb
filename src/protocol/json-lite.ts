import { asBuffer, bytesEqual, shortText, utf8Text } from '../base/bytes.js';
import { JOB_FIELDS } from './commands.js';
import type { Obj } from './fields.js';
import { validNumber, validString, validValue, vstate } from './json-validate.js';
import { skipWs } from './json-walk.js';
import type { RawJsonSource } from './payload-text.js';

/**
 * A PUSH or PUSHB line parsed without materialising job data. JSON.parse of a 1000-job line builds every
 * data object only for the garbage collector: here each `data` is validated in place and its span
 * recorded, and the only values built are the fields the decoder reads (cmd, queue, reqId and the
 * jobs' scalar fields). The object returned goes through the same command decoder as a JSON.parse
 * result, so validation and error texts are shared.
 *
 * It handles the ordinary case only and returns null for anything else (not PUSH/PUSHB, invalid JSON,
 * an escaped key, a known field holding an object, raw line breaks in a data value…); the caller
 * then takes the JSON.parse path, which gives the answer (or the exact error) for those.
 * Duplicate keys keep the last occurrence, as JSON.parse does.
 */

/** thrown inside to leave the parse; never escapes this module */
const BAIL = Symbol('bail');

const JOB_KEYS = new Set<string>(JOB_FIELDS);

let b: Uint8Array = new Uint8Array(0);
let end = 0;
/** index after the value read by the last stringAt/keyAt/numberAt/simpleAt/skipAt */
let next = 0;

function bail(): never {
  throw BAIL;
}

/** i at `"`: the string's value (escapes decoded by JSON.parse of the token, the rare path). */
function stringAt(i: number): string {
  let k = i + 1;
  let plain = true;
  while (k < end) {
    const c = b[k]!;
    if (c === 0x22) break;
    if (c === 0x5c || c < 0x20) {
      plain = false;
      break;
    }
    k++;
  }
  if (plain && k < end) {
    next = k + 1;
    return shortText(b, i + 1, k);
  }
  const e = validString(b, i, end);
  if (e < 0) bail();
  next = e;
  return JSON.parse(utf8Text(asBuffer(b), i, e)) as string;
}

/**
 * The keys this parser looks at, by length: a key that spells one of them is returned as that
 * constant instead of a new string (one allocation and a native call per job and key saved).
 */
const KNOWN_KEYS: string[][] = [];
for (const k of ['cmd', 'queue', 'reqId', 'jobs', 'data', ...JOB_KEYS]) (KNOWN_KEYS[k.length] ??= []).push(k);

function knownKey(start: number, stop: number): string | null {
  const candidates = KNOWN_KEYS[stop - start];
  if (candidates === undefined) return null;
  for (const k of candidates) if (bytesEqual(b, start, stop, k)) return k;
  return null;
}

/** A key without escapes, as a string; anything else bails. */
function keyAt(i: number): string {
  if (b[i] !== 0x22) bail();
  let k = i + 1;
  while (k < end && b[k] !== 0x22) {
    if (b[k] === 0x5c || b[k]! < 0x20) bail();
    k++;
  }
  if (k >= end) bail();
  next = k + 1;
  return knownKey(i + 1, k) ?? shortText(b, i + 1, k);
}

function numberAt(i: number): number {
  const e = validNumber(b, i, end);
  if (e < 0) bail();
  next = e;
  // plain integers of up to 15 digits are exact in a double: no string needed
  if (e - i <= 15) {
    let v = 0;
    let k = b[i] === 0x2d ? i + 1 : i;
    for (; k < e; k++) {
      const c = b[k]!;
      if (c < 0x30 || c > 0x39) return Number(shortText(b, i, e));
      v = v * 10 + (c - 0x30);
    }
    return b[i] === 0x2d ? -v : v;
  }
  return Number(shortText(b, i, e));
}

/** A scalar or an array of scalars (the shapes of the fields read here); containers bail. */
function simpleAt(i: number): unknown {
  const c = b[i];
  if (c === 0x22) return stringAt(i);
  if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return numberAt(i);
  if (c === 0x5b) {
    const list: unknown[] = [];
    i = skipWs(b, i + 1, end);
    if (b[i] === 0x5d) {
      next = i + 1;
      return list;
    }
    for (;;) {
      const d = b[i];
      if (d === 0x5b || d === 0x7b) bail();
      list.push(simpleAt(i));
      i = skipWs(b, next, end);
      if (b[i] === 0x2c) i = skipWs(b, i + 1, end);
      else if (b[i] === 0x5d) {
        next = i + 1;
        return list;
      } else bail();
    }
  }
  if (c === 0x74 && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
    next = i + 4;
    return true;
  }
  if (c === 0x66 && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
    next = i + 5;
    return false;
  }
  if (c === 0x6e && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
    next = i + 4;
    return null;
  }
  return bail();
}

function skipAt(i: number): void {
  const e = validValue(b, i, end);
  if (e < 0) bail();
  next = e;
}

/**
 * Walk the members of the object at i (its `{`), calling onMember(key, valueStart) which must set
 * `next` past the value. Returns the index after the closing brace.
 */
function members(i: number, onMember: (key: string, at: number) => void): number {
  if (b[i] !== 0x7b) bail();
  i = skipWs(b, i + 1, end);
  if (b[i] === 0x7d) return i + 1;
  for (;;) {
    const key = keyAt(i);
    i = skipWs(b, next, end);
    if (b[i] !== 0x3a) bail();
    onMember(key, skipWs(b, i + 1, end));
    i = skipWs(b, next, end);
    if (b[i] === 0x2c) i = skipWs(b, i + 1, end);
    else if (b[i] === 0x7d) return i + 1;
    else bail();
  }
}

let source: RawJsonSource;
let job: Obj = {};
let jobIndex = 0;

function onJobMember(key: string, at: number): void {
  if (key === 'data') {
    skipAt(at);
    // a pretty-printed value must be re-serialised: leave it to the JSON.parse path
    if (vstate.newline) bail();
    source.setJobSpan(jobIndex, at, next, vstate.ascii);
    job.data = true;
  } else if (JOB_KEYS.has(key)) job[key] = simpleAt(at);
  else skipAt(at);
}

function jobsAt(i: number): Obj[] {
  if (b[i] !== 0x5b) bail();
  const jobs: Obj[] = [];
  source.presetSpans();
  i = skipWs(b, i + 1, end);
  if (b[i] === 0x5d) {
    next = i + 1;
    return jobs;
  }
  for (;;) {
    job = {};
    jobIndex = jobs.length;
    source.setJobSpan(jobIndex, -1, -1);
    i = skipWs(b, members(i, onJobMember), end);
    jobs.push(job);
    if (b[i] === 0x2c) i = skipWs(b, i + 1, end);
    else if (b[i] === 0x5d) {
      next = i + 1;
      return jobs;
    } else bail();
  }
}

let top: Obj = {};

function onTopMember(key: string, at: number): void {
  switch (key) {
    case 'cmd':
      top.cmd = simpleAt(at);
      if (top.cmd !== 'PUSHB' && top.cmd !== 'PUSH') bail();
      return;
    case 'queue':
    case 'reqId':
      top[key] = simpleAt(at);
      return;
    case 'jobs':
      top.jobs = jobsAt(at);
      return;
    case 'data':
      // PUSH carries its job at the top level; for PUSHB a stray `data` is skipped the same way
      skipAt(at);
      if (vstate.newline) bail();
      source.setTopSpan(at, next, vstate.ascii);
      top.data = true;
      return;
    default:
      if (JOB_KEYS.has(key)) top[key] = simpleAt(at);
      else skipAt(at);
  }
}

/**
 * The PUSH/PUSHB request object of bytes[0, bytes.length) with `data: true` standing for each job's
 * data, whose spans are recorded in `raw` (pointed at these bytes); null when this parser does not
 * handle the line.
 */
export function parsePushLite(bytes: Buffer, raw: RawJsonSource): Obj | null {
  b = bytes;
  end = bytes.length;
  source = raw;
  top = {};
  try {
    const i = skipWs(b, members(skipWs(b, 0, end), onTopMember), end);
    if (i !== end) return null;
    if (top.cmd === 'PUSHB' ? top.jobs === undefined : top.cmd !== 'PUSH' || top.data === undefined) return null;
    return top;
  } catch (e) {
    if (e === BAIL) return null;
    throw e;
  } finally {
    b = EMPTY;
    top = job = {};
  }
}

const EMPTY = new Uint8Array(0);
