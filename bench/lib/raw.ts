/**
 * A bare TCP connection speaking the flashQ framing with pre-encoded requests: the load generator's
 * cost per request is a socket write and a scan of the answer bytes, so the numbers it reports are
 * the server's, not a client library's. (Steps using FlashqClient are labelled "client".)
 */
import { createConnection, type Socket } from 'node:net';
import { Packr, Unpackr } from 'msgpackr';

export type Framing = 'json' | 'msgpack';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** One request in the connection's framing, ready to write. */
export function encode(framing: Framing, cmd: object): Buffer {
  if (framing === 'json') return Buffer.from(JSON.stringify(cmd) + '\n');
  const body = packr.pack(cmd);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** A whole answer as an object (used off the clock, or where a scan would be wrong). */
export function decode(framing: Framing, answer: Buffer): Record<string, unknown> {
  return (framing === 'json' ? JSON.parse(answer.toString('utf8')) : unpackr.unpack(answer)) as Record<string, unknown>;
}

function digitsAt(b: Buffer, i: number): number {
  let n = 0;
  for (let c = b[i]!; c >= 48 && c <= 57; c = b[++i]!) n = n * 10 + (c - 48);
  return n;
}

const ID = Buffer.from('"id":');
const IDS = Buffer.from('"ids":[');
const JOB = Buffer.from('{"id":');
const OK = Buffer.from('"ok":true');

export function isOk(framing: Framing, answer: Buffer): boolean {
  if (framing === 'json') return answer.indexOf(OK) >= 0 && answer.indexOf(OK) < 8;
  return decode(framing, answer).ok === true;
}

/** The id of a PUSH answer; -1 when the answer is an error. */
export function answerId(framing: Framing, answer: Buffer): number {
  if (framing === 'msgpack') {
    const a = decode(framing, answer);
    return a.ok === true ? (a.id as number) : -1;
  }
  const i = answer.indexOf(ID);
  return i < 0 ? -1 : digitsAt(answer, i + ID.length);
}

/** The ids of a PUSHB (or the count of an ACKB) answer, appended to `out`; false on an error answer. */
export function answerIds(framing: Framing, answer: Buffer, out: (id: number) => void): boolean {
  if (framing === 'msgpack') {
    const a = decode(framing, answer);
    if (a.ok !== true) return false;
    for (const id of a.ids as number[]) out(id);
    return true;
  }
  let i = answer.indexOf(IDS);
  if (i < 0) return false;
  i += IDS.length;
  while (answer[i] !== 93 /* ] */ && i < answer.length) {
    out(digitsAt(answer, i));
    while (answer[i] !== 44 /* , */ && answer[i] !== 93) i++;
    if (answer[i] === 44) i++;
  }
  return true;
}

/**
 * The ids of the jobs of a PULLB answer. In JSON every job starts `{"id":` (compat.md fixes the key
 * order) and the bench payloads hold no such text, so a scan finds exactly the job ids without
 * parsing payloads. Returns the number of jobs, or -1 on an error answer.
 */
export function answerJobIds(framing: Framing, answer: Buffer, out: (id: number) => void): number {
  if (framing === 'msgpack') {
    const a = decode(framing, answer);
    if (a.ok !== true) return -1;
    const jobs = a.jobs as { id: number }[];
    for (const j of jobs) out(j.id);
    return jobs.length;
  }
  if (!isOk(framing, answer)) return -1;
  let n = 0;
  for (let i = answer.indexOf(JOB); i >= 0; i = answer.indexOf(JOB, i + JOB.length)) {
    out(digitsAt(answer, i + JOB.length));
    n++;
  }
  return n;
}

/**
 * Answers are handed over per socket read, as views into the received bytes: a caller that keeps
 * one past its callback must copy it.
 */
export class RawConn {
  private pieces: Buffer[] = [];
  private piecesLen = 0;
  /** total frame size (msgpack) being collected, -1 while unknown */
  private need = -1;
  private closed = false;
  private failure: ((e: Error) => void) | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly framing: Framing,
    private readonly onAnswers: (answers: Buffer[]) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.failure?.(e));
    socket.on('close', () => {
      this.closed = true;
      this.failure?.(new Error('connection closed by the server'));
    });
  }

  static connect(port: number, framing: Framing, onAnswers: (answers: Buffer[]) => void, host = '127.0.0.1'): Promise<RawConn> {
    return new Promise((res, rej) => {
      const s = createConnection({ host, port });
      s.once('connect', () => res(new RawConn(s, framing, onAnswers)));
      s.once('error', rej);
    });
  }

  /** Called when the socket fails or closes while the load still expects answers. */
  onFailure(f: (e: Error) => void): void {
    this.failure = f;
  }

  write(data: Buffer | string): void {
    this.socket.write(data);
  }

  close(): void {
    if (this.closed) return;
    this.failure = null;
    this.closed = true;
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    const out: Buffer[] = [];
    if (this.framing === 'json') this.lines(chunk, out);
    else this.frames(chunk, out);
    if (out.length > 0) this.onAnswers(out);
  }

  private lines(chunk: Buffer, out: Buffer[]): void {
    let start = 0;
    let nl = chunk.indexOf(10);
    if (nl < 0) {
      this.pieces.push(chunk);
      return;
    }
    if (this.pieces.length > 0) {
      this.pieces.push(chunk.subarray(0, nl));
      out.push(Buffer.concat(this.pieces));
      this.pieces = [];
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    while (nl >= 0) {
      out.push(chunk.subarray(start, nl));
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) this.pieces.push(chunk.subarray(start));
  }

  private frames(chunk: Buffer, out: Buffer[]): void {
    let buf = chunk;
    if (this.piecesLen > 0) {
      this.pieces.push(chunk);
      this.piecesLen += chunk.length;
      if (this.need < 0 && this.piecesLen >= 4) this.need = 4 + Buffer.concat(this.pieces).readUInt32BE(0);
      if (this.need < 0 || this.piecesLen < this.need) return;
      buf = Buffer.concat(this.pieces, this.piecesLen);
      this.pieces = [];
      this.piecesLen = 0;
      this.need = -1;
    }
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off - 4 < len) break;
      out.push(buf.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    if (off < buf.length) {
      const rest = buf.subarray(off);
      this.pieces.push(rest);
      this.piecesLen = rest.length;
      this.need = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : -1;
    }
  }
}

/** A `data` value whose JSON encoding is exactly `bytes` long (≥ 10), with no `{"id":` inside. */
export function payload(bytes: number): { p: string } {
  return { p: 'x'.repeat(Math.max(1, bytes - 8)) };
}
