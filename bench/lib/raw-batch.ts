/**
 * Raw-socket batch loops shared by the TCP loads: PUSHB with batches in flight, and PULLB+ACKB until
 * the queue is empty. Requests are pre-encoded; answers are scanned, not parsed (bench/lib/raw.ts).
 */
import { IdLog } from './delivery.js';
import { RawConn, answerIds, answerJobIds, encode, payload } from './raw.js';
import { now } from './stats.js';
import { Waiter } from './waiter.js';
import type { LoadParams } from './load.js';

export const nothing = async (): Promise<void> => {};

function connectRaw(p: LoadParams, w: Waiter, onAnswers: (a: Buffer[]) => void): Promise<RawConn> {
  return RawConn.connect(p.port, p.framing, onAnswers).then((c) => {
    c.onFailure((e) => w.fail(e));
    return c;
  });
}

function refused(what: string, a: Buffer): Error {
  return new Error(`${what} refused: ${a.toString('utf8', 0, 300)}`);
}

/** PUSHB of `p.n` jobs in batches of `p.batch`, `p.inFlight` batches in flight. */
export async function rawPushBatches(p: LoadParams, pushed: IdLog, before: () => Promise<void>): Promise<[number, number]> {
  const data = payload(p.bytes);
  const jobs = Array.from({ length: p.batch }, () => ({ data }));
  const line = encode(p.framing, { cmd: 'PUSHB', queue: p.queue, jobs });
  const batches = Math.ceil(p.n / p.batch);
  const w = new Waiter('PUSHB', p.deadline);
  let sent = 0;
  let answered = 0;
  const add = (id: number) => pushed.add(id);
  const conn = await connectRaw(p, w, (answers) => {
    let more = 0;
    for (const a of answers) {
      if (!answerIds(p.framing, a, add)) return w.fail(refused('PUSHB', a));
      if (++answered === batches) return w.done();
      if (sent + more < batches) more++;
    }
    sent += more;
    for (let i = 0; i < more; i++) conn.write(line);
  });
  await before();
  const t0 = now();
  const done = w.wait();
  sent = Math.min(batches, p.inFlight);
  for (let i = 0; i < sent; i++) conn.write(line);
  await done;
  const t1 = now();
  conn.close();
  return [t0, t1];
}

/**
 * PULLB (timeout 0) of `p.batch`, ACKB of every batch pulled, `p.inFlight` PULLBs in flight; stops
 * once the queue answers empty or the shared counter reaches the total.
 */
export async function rawPullAck(p: LoadParams, doneIds: IdLog, before: () => Promise<void>): Promise<[number, number]> {
  const pull = encode(p.framing, { cmd: 'PULLB', queue: p.queue, count: p.batch, timeout: 0 });
  const w = new Waiter('PULLB+ACKB', p.deadline);
  /** kinds of the requests in flight, oldest first: -1 a PULLB, n ≥ 0 an ACKB of n ids */
  const kinds: number[] = [];
  let head = 0;
  let stopping = false;
  let batchIds: number[] = [];
  const add = (id: number) => batchIds.push(id);
  let acked = -1;
  const readAck = (id: number) => (acked = id);
  const taken = () => (p.counter && p.total ? Atomics.load(p.counter, 0) >= p.total : false);
  const conn = await connectRaw(p, w, (answers) => {
    const out: Buffer[] = [];
    for (const a of answers) {
      const kind = kinds[head++]!;
      if (kind === -1) {
        batchIds = [];
        const n = answerJobIds(p.framing, a, add);
        if (n < 0) return w.fail(refused('PULLB', a));
        if (n === 0) stopping = true;
        else {
          if (p.counter) Atomics.add(p.counter, 0, n);
          for (const id of batchIds) doneIds.add(id);
          out.push(p.framing === 'json' ? Buffer.from(`{"cmd":"ACKB","ids":[${batchIds.join(',')}]}\n`) : encode('msgpack', { cmd: 'ACKB', ids: batchIds }));
          kinds.push(n);
          if (!stopping && !taken()) {
            out.push(pull);
            kinds.push(-1);
          }
        }
      } else {
        acked = -1;
        if (!answerIds(p.framing, a, readAck) || acked !== kind) return w.fail(new Error(`ACKB of ${kind} ids acknowledged ${acked}: ${a.toString('utf8', 0, 200)}`));
      }
    }
    if (head === kinds.length) return w.done();
    if (out.length === 1) conn.write(out[0]!);
    else if (out.length > 1) conn.write(Buffer.concat(out));
  });
  await before();
  const t0 = now();
  const done = w.wait();
  for (let i = 0; i < p.inFlight; i++) kinds.push(-1);
  conn.write(Buffer.concat(kinds.map(() => pull)));
  await done;
  const t1 = now();
  conn.close();
  return [t0, t1];
}


/** Drains a queue off the clock, returning the ids it took. */
export async function drain(p: LoadParams): Promise<Float64Array> {
  const done = new IdLog(1024);
  // the step's own batch: a PULLB answer must stay small enough for the server's ring frames
  await rawPullAck({ ...p, framing: 'json', mode: 'raw', batch: Math.min(1000, p.batch), inFlight: 2, counter: undefined }, done, nothing);
  return done.toArray();
}

/** Fills a queue off the clock (JSON PUSHB of 1000), returning the ids. */
export async function fill(p: LoadParams): Promise<Float64Array> {
  const pushed = new IdLog(p.n);
  await rawPushBatches({ ...p, framing: 'json', batch: Math.min(1000, p.batch), inFlight: 4 }, pushed, nothing);
  return pushed.toArray();
}
