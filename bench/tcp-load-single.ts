/**
 * Load functions with one job per request (PUSH, sequential and pipelined) and the client Worker
 * loads (processing rate, push→handler latency). Same conventions as bench/tcp-load.ts.
 */
import { FlashqClient, Worker } from '../src/client/index.js';
import { IdLog } from './lib/delivery.js';
import type { Ready } from './lib/pool.js';
import { RawConn, answerId, encode, payload } from './lib/raw.js';
import { now } from './lib/stats.js';
import { Waiter } from './lib/waiter.js';
import type { LoadParams, LoadResult } from './lib/load.js';
import { drain, fill } from './lib/raw-batch.js';

/** Sequential PUSH, one request in flight: each request's round trip. */
export async function pushSeq(p: LoadParams, ready: Ready): Promise<LoadResult> {
  const pushed = new IdLog(p.n + 1024);
  const lat = new Float64Array(p.n);
  const warm = Math.min(1000, p.n >> 3);
  let t0 = 0;
  let t1 = 0;
  if (p.mode === 'client') {
    const c = new FlashqClient({ port: p.port, framing: p.framing });
    await c.connect();
    const data = payload(p.bytes);
    for (let i = 0; i < warm; i++) pushed.add(await c.push(p.queue, data));
    await ready();
    t0 = now();
    for (let i = 0; i < p.n; i++) {
      const s = performance.now();
      pushed.add(await c.push(p.queue, data));
      lat[i] = (performance.now() - s) * 1000;
      if ((i & 1023) === 0 && Date.now() > p.deadline) throw new Error('PUSH: not finished by the deadline');
    }
    t1 = now();
    await c.close();
  } else {
    const line = encode(p.framing, { cmd: 'PUSH', queue: p.queue, data: payload(p.bytes) });
    const w = new Waiter('PUSH', p.deadline);
    let i = -warm;
    let s = 0;
    const conn = await RawConn.connect(p.port, p.framing, (answers) => {
      for (const a of answers) {
        const id = answerId(p.framing, a);
        if (id < 0) return w.fail(new Error(`PUSH refused: ${a.toString('utf8', 0, 200)}`));
        if (i >= 0) lat[i] = (performance.now() - s) * 1000;
        pushed.add(id);
        i++;
        // the end of the warm-up pauses at the barrier; the end of the run stops
        if (i === 0 || i >= p.n) return w.done();
        s = performance.now();
        conn.write(line);
      }
    });
    conn.onFailure((e) => w.fail(e));
    if (warm > 0) {
      const warmed = w.wait();
      conn.write(line);
      await warmed;
    }
    await ready();
    const done = w.wait();
    t0 = now();
    s = performance.now();
    conn.write(line);
    await done;
    t1 = now();
    conn.close();
  }
  const drained = await drain(p);
  return { ops: p.n, t0, t1, lat, pushed: pushed.toArray(), done: drained };
}

/** Single PUSHes with `p.inFlight` requests in flight. */
export async function pushPipelined(p: LoadParams, ready: Ready): Promise<LoadResult> {
  const pushed = new IdLog(p.n);
  let t0 = 0;
  let t1 = 0;
  if (p.mode === 'client') {
    const c = new FlashqClient({ port: p.port, framing: p.framing });
    await c.connect();
    const data = payload(p.bytes);
    let next = 0;
    await ready();
    t0 = now();
    const loop = async () => {
      while (next < p.n) {
        next++;
        pushed.add(await c.push(p.queue, data));
        if ((next & 1023) === 0 && Date.now() > p.deadline) throw new Error('PUSH: not finished by the deadline');
      }
    };
    await Promise.all(Array.from({ length: p.inFlight }, loop));
    t1 = now();
    await c.close();
  } else {
    const line = encode(p.framing, { cmd: 'PUSH', queue: p.queue, data: payload(p.bytes) });
    // inFlight copies back to back: a read that brings k answers is refilled by one write of k requests
    const many = Buffer.concat(Array.from({ length: p.inFlight }, () => line));
    const w = new Waiter('PUSH', p.deadline);
    let sent = 0;
    let answered = 0;
    const conn = await RawConn.connect(p.port, p.framing, (answers) => {
      for (const a of answers) {
        const id = answerId(p.framing, a);
        if (id < 0) return w.fail(new Error(`PUSH refused: ${a.toString('utf8', 0, 200)}`));
        pushed.add(id);
      }
      answered += answers.length;
      if (answered >= p.n) return w.done();
      const k = Math.min(answers.length, p.n - sent);
      if (k > 0) {
        sent += k;
        conn.write(many.subarray(0, k * line.length));
      }
    });
    conn.onFailure((e) => w.fail(e));
    await ready();
    const done = w.wait();
    t0 = now();
    sent = Math.min(p.n, p.inFlight);
    conn.write(many.subarray(0, sent * line.length));
    await done;
    t1 = now();
    conn.close();
  }
  const drained = await drain(p);
  return { ops: p.n, t0, t1, pushed: pushed.toArray(), done: drained };
}

/**
 * The client Worker with a no-op handler over a queue filled off the clock; the clock stops when
 * the last job's handler has run (the shared counter covers every thread's worker).
 */
export async function workerRun(p: LoadParams, ready: Ready): Promise<LoadResult> {
  const filled = await fill(p);
  const done = new IdLog(p.n);
  const total = p.total ?? p.n;
  const counter = p.counter ?? new Int32Array(new SharedArrayBuffer(4));
  const w = new Waiter('Worker', p.deadline);
  const worker = new Worker(
    p.queue,
    (job) => {
      done.add(job.id);
      if (Atomics.add(counter, 0, 1) + 1 >= total) w.done();
    },
    { port: p.port, framing: p.framing, concurrency: p.concurrency ?? 1, pullTimeoutMs: 200, autoStart: false },
  );
  worker.on('error', (e: Error) => w.fail(e));
  await ready();
  const finished = w.wait();
  const t0 = now();
  await worker.start();
  // other threads' workers may take the last jobs: stop when the shared count says all are done
  const poll = setInterval(() => {
    if (Atomics.load(counter, 0) >= total) w.done();
  }, 5);
  try {
    await finished;
  } finally {
    clearInterval(poll);
  }
  const t1 = now();
  await worker.close();
  return { ops: done.length, t0, t1, pushed: filled, done: done.toArray() };
}

/**
 * Push→handler-start latency: one job at a time is pushed while a Worker (concurrency 1) waits in
 * a long-poll PULLB; both live in this thread, so one clock measures both ends.
 */
export async function e2eLatency(p: LoadParams, ready: Ready): Promise<LoadResult> {
  const pushed = new IdLog(p.n + 256);
  const done = new IdLog(p.n + 256);
  const lat = new Float64Array(p.n);
  const warm = Math.min(200, p.n >> 3);
  const client = new FlashqClient({ port: p.port, framing: p.framing });
  await client.connect();
  let sentAt = 0;
  let lastLatency = 0;
  let handled: (() => void) | null = null;
  let failure: Error | null = null;
  const worker = new Worker(
    p.queue,
    (job) => {
      lastLatency = (performance.now() - sentAt) * 1000;
      done.add(job.id);
      const h = handled;
      handled = null;
      h?.();
    },
    { port: p.port, framing: p.framing, concurrency: 1, pullTimeoutMs: 1000 },
  );
  worker.on('error', (e: Error) => (failure = e));
  const data = payload(p.bytes);
  const one = async (): Promise<number> => {
    const seen = new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('push→handler: a job was not handled within 5 s')), 5000);
      handled = () => {
        clearTimeout(timer);
        res();
      };
    });
    sentAt = performance.now();
    pushed.add(await client.push(p.queue, data));
    await seen;
    if (failure) throw failure;
    return lastLatency;
  };
  for (let i = 0; i < warm; i++) await one();
  await ready();
  const t0 = now();
  for (let i = 0; i < p.n; i++) {
    lat[i] = await one();
    if (Date.now() > p.deadline) throw new Error('push→handler: not finished by the deadline');
  }
  const t1 = now();
  await worker.close();
  await client.close();
  return { ops: p.n, t0, t1, lat, pushed: pushed.toArray(), done: done.toArray() };
}

