/**
 * The load `flashq-ts bench` puts on any flashQ-compatible server over TCP, through the client:
 * C connections push N jobs as PUSHB batches (F batches in flight each), then drain them with
 * PULLB+ACKB (F cycles in flight each), then measure single-request round trips; every pushed id
 * must come back exactly once.
 */
import { FlashqClient, type ClientOptions } from '../../client/index.js';
import { checkExactlyOnce, DeliveryError, IdLog } from './delivery.js';
import { quantile } from './stats.js';

export interface LoadOptions {
  jobs: number;
  /** bytes of each job's data, as JSON */
  payload: number;
  batch: number;
  connections: number;
  inFlight: number;
  /** sequential PUSH and PULL+ACK round trips measured one at a time */
  samples: number;
  queue: string;
  /** give up (and fail) after this long */
  timeoutMs: number;
}

export interface PhaseResult {
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  /** per request (a whole batch for the batch phases), µs */
  p50: number;
  p99: number;
  p999: number;
}

export interface FlashqResult {
  push: PhaseResult;
  pullAck: PhaseResult;
  pushLatency: PhaseResult;
  pullAckLatency: PhaseResult;
  exactlyOnce: true;
}

export type Tick = (phase: string, n: number) => void;

/** A JSON object whose encoding is `bytes` long (at least the 10 bytes of the smallest one). */
export function payloadOf(bytes: number): { p: string } {
  return { p: 'x'.repeat(Math.max(0, bytes - 8)) };
}

export function phase(jobs: number, t0: number, t1: number, lat: number[]): PhaseResult {
  const sorted = Float64Array.from(lat).sort();
  const seconds = (t1 - t0) / 1000;
  return { jobs, seconds, jobsPerSecond: jobs / seconds, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), p999: quantile(sorted, 0.999) };
}

const micros = (t0: number) => (performance.now() - t0) * 1000;

/** Run `worker(i)` for each connection and wait for all. */
function each<T>(clients: FlashqClient[], worker: (c: FlashqClient, i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(clients.map(worker));
}

export async function runFlashq(target: ClientOptions, o: LoadOptions, tick: Tick): Promise<FlashqResult> {
  const deadline = Date.now() + o.timeoutMs;
  // across the nodes of a cluster, connection i starts at node i (each fails over to the others)
  const nodes = target.nodes ?? [];
  const clients = Array.from({ length: o.connections }, (_, i) =>
    new FlashqClient({ ...target, reconnect: false, ...(nodes.length > 1 ? { nodes: [...nodes.slice(i % nodes.length), ...nodes.slice(0, i % nodes.length)] } : {}) }),
  );
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const data = payloadOf(o.payload);
    const pushed = clients.map(() => new IdLog(Math.ceil(o.jobs / o.connections)));
    const done = clients.map(() => new IdLog(Math.ceil(o.jobs / o.connections)));
    const checkTime = () => {
      if (Date.now() > deadline) throw new DeliveryError(`bench timed out after ${o.timeoutMs} ms`);
    };

    // ---- push ----
    const pushLat: number[] = [];
    let t0 = performance.now();
    await each(clients, async (c, i) => {
      let left = Math.floor(o.jobs / o.connections) + (i < o.jobs % o.connections ? 1 : 0);
      const lane = async () => {
        while (left > 0) {
          checkTime();
          const n = Math.min(o.batch, left);
          left -= n;
          const jobs = Array.from({ length: n }, () => ({ data }));
          const s = performance.now();
          const ids = await c.pushBatch(o.queue, jobs);
          pushLat.push(micros(s));
          for (const id of ids) pushed[i]!.add(id);
          tick('push', n);
        }
      };
      await Promise.all(Array.from({ length: o.inFlight }, lane));
    });
    const push = phase(o.jobs, t0, performance.now(), pushLat);

    // ---- pull + ack ----
    const pullLat: number[] = [];
    let taken = 0;
    t0 = performance.now();
    await each(clients, async (c, i) => {
      const lane = async () => {
        while (taken < o.jobs) {
          checkTime();
          const s = performance.now();
          const jobs = await c.pullBatch(o.queue, o.batch, { timeout: 0 });
          if (jobs.length === 0) {
            // the rest is in other lanes' hands; look again shortly rather than spin
            await new Promise((r) => setTimeout(r, 2));
            continue;
          }
          taken += jobs.length;
          const ids = jobs.map((j) => j.id);
          const acked = await c.ackBatch(ids);
          if (acked !== ids.length) throw new DeliveryError(`ACKB acknowledged ${acked} of ${ids.length} jobs`);
          pullLat.push(micros(s));
          for (const id of ids) done[i]!.add(id);
          tick('pull+ack', jobs.length);
        }
      };
      await Promise.all(Array.from({ length: o.inFlight }, lane));
    });
    const pullAck = phase(taken, t0, performance.now(), pullLat);

    // ---- single round trips ----
    const c = clients[0]!;
    const one: number[] = [];
    t0 = performance.now();
    for (let k = 0; k < o.samples; k++) {
      const s = performance.now();
      pushed[0]!.add(await c.push(o.queue, data));
      one.push(micros(s));
      tick('push 1×1', 1);
    }
    const pushLatency = phase(o.samples, t0, performance.now(), one);
    const cycle: number[] = [];
    t0 = performance.now();
    for (let k = 0; k < o.samples; k++) {
      checkTime();
      const s = performance.now();
      const job = await c.pull(o.queue, { timeout: 1000 });
      if (job === null) throw new DeliveryError(`PULL found no job after ${k} of ${o.samples} single pushes`);
      await c.ack(job.id);
      cycle.push(micros(s));
      done[0]!.add(job.id);
      tick('pull+ack 1×1', 1);
    }
    const pullAckLatency = phase(o.samples, t0, performance.now(), cycle);

    checkExactlyOnce(`queue ${o.queue}`, pushed.map((l) => l.toArray()), done.map((l) => l.toArray()));
    const left = (await c.listQueues()).find((q) => q.name === o.queue);
    if (left && (left.pending || left.processing || left.dlq)) {
      throw new DeliveryError(`queue ${o.queue}: ${left.pending} pending, ${left.processing} active, ${left.dlq} dead-lettered after the run`);
    }
    return { push, pullAck, pushLatency, pullAckLatency, exactlyOnce: true };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}
