import { errors } from '../base/errors.js';
import { validateQueueName } from '../engine/names.js';

/** A worker as GET /workers shows it. */
export interface WorkerInfo {
  id: string;
  queues: string[];
  concurrency: number;
  last_heartbeat: number;
  jobs_processed: number;
}

export interface Heartbeat {
  queues?: string[];
  concurrency?: number;
  jobsProcessed?: number;
}

/** A worker that has not sent a heartbeat for this long is no longer listed (and is forgotten). */
export const WORKER_TTL_MS = 30_000;
/** Bound on remembered workers: beyond it the stalest ones are forgotten first. */
export const MAX_WORKERS = 10_000;
const MAX_ID = 256;
const MAX_QUEUES_PER_WORKER = 1000;

/**
 * Workers that announce themselves with POST /workers/{id}/heartbeat. Kept on the front only: it is
 * advisory (what the dashboard shows), not used for leases, which shards track per connection.
 */
export class WorkerRegistry {
  // Map keeps insertion order; a heartbeat re-inserts its worker, so the first entries are the stalest
  private readonly workers = new Map<string, WorkerInfo>();
  /**
   * Cluster mode: the lists of the other nodes (a worker may heartbeat to any node), and the
   * nodes that gave none (dead, unreachable, or too slow to answer).
   */
  peers: (() => Promise<{ lists: WorkerInfo[][]; missing: string[] }>) | null = null;

  heartbeat(id: string, hb: Heartbeat, now: number): WorkerInfo {
    const prev = this.workers.get(id);
    const info: WorkerInfo = {
      id,
      queues: hb.queues ?? prev?.queues ?? [],
      concurrency: hb.concurrency ?? prev?.concurrency ?? 1,
      last_heartbeat: now,
      jobs_processed: hb.jobsProcessed ?? prev?.jobs_processed ?? 0,
    };
    this.workers.delete(id);
    this.workers.set(id, info);
    this.prune(now);
    return info;
  }

  /** Workers seen within the last WORKER_TTL_MS, most recent first. */
  list(now: number): WorkerInfo[] {
    this.prune(now);
    return [...this.workers.values()].reverse();
  }

  /**
   * This node's workers merged with the other nodes' (cluster mode): a worker that heartbeats
   * to several nodes is listed once, as its latest heartbeat says; most recent first. `missing`
   * names the nodes whose workers could not be asked (the list may lack those workers).
   */
  async listAll(now: number): Promise<{ workers: WorkerInfo[]; missing: string[] }> {
    const mine = this.list(now);
    if (this.peers === null) return { workers: mine, missing: [] };
    const { lists, missing } = await this.peers();
    const byId = new Map<string, WorkerInfo>();
    for (const list of [mine, ...lists]) {
      for (const w of list) {
        const seen = byId.get(w.id);
        if (seen === undefined || seen.last_heartbeat < w.last_heartbeat) byId.set(w.id, w);
      }
    }
    const workers = [...byId.values()].sort((a, b) => b.last_heartbeat - a.last_heartbeat || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { workers, missing };
  }

  private prune(now: number): void {
    for (const [id, w] of this.workers) {
      if (now - w.last_heartbeat <= WORKER_TTL_MS && this.workers.size <= MAX_WORKERS) break;
      this.workers.delete(id);
    }
  }
}

/** Validate a heartbeat path id and body; throws a 400 FlashqError naming the bad field. */
export function parseHeartbeat(id: string, body: Record<string, unknown>): Heartbeat {
  if (id.length === 0 || id.length > MAX_ID) throw errors.badRequest(`Invalid worker id: expected 1..${MAX_ID} characters`);
  const hb: Heartbeat = {};
  const q = body.queues;
  if (q !== undefined && q !== null) {
    if (!Array.isArray(q) || q.length > MAX_QUEUES_PER_WORKER) {
      throw errors.badRequest(`Invalid field "queues": expected an array of at most ${MAX_QUEUES_PER_WORKER} queue names`);
    }
    for (const name of q) {
      if (typeof name !== 'string') throw errors.badRequest('Invalid field "queues": expected an array of strings');
      validateQueueName(name);
    }
    hb.queues = q as string[];
  }
  const c = body.concurrency;
  if (c !== undefined && c !== null) hb.concurrency = count(c, 'concurrency');
  const j = body.jobs_processed;
  if (j !== undefined && j !== null) hb.jobsProcessed = count(j, 'jobs_processed');
  return hb;
}

function count(v: unknown, key: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw errors.badRequest(`Invalid field "${key}": expected a non-negative integer`);
  return v;
}
