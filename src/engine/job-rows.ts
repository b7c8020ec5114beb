import { latin1Text } from '../base/bytes.js';
import type { RestoredJob } from './api.js';
import type { JobState } from './types.js';

/**
 * Stored jobs on their way into an engine (recovery, a cluster node taking partitions over),
 * column by column: numbers in typed arrays (in segments), queue names as indexes into `names`,
 * payloads as spans of off-heap blocks, the rarely-set fields in a sparse map. A reload holds every job of its
 * partitions at once before the engine makes its own objects; as one object and one string per
 * job they all survived into the old generation first (a reload's client CPU doubled: measured
 * with 300k jobs, 0.6 s reading rows and dropping them, 1.2–1.5 s keeping them as objects).
 */

export type StoredState = Exclude<JobState, 'unknown'>;

export const STORED_STATES: readonly StoredState[] = ['waiting', 'delayed', 'active', 'completed', 'failed', 'waiting-children'];

/** The rarely-set fields of a stored job. */
export interface RowExtra {
  uniqueKey: string | null;
  dependsOn: number[];
  tags: string[];
  progressMsg: string | null;
  result: string | null;
  error: string | null;
}

const BLOCK_BYTES = 1 << 20;
const NO_BLOCK = Buffer.alloc(0);

/** Rows per segment: a segment's columns take ~1.5 MiB. */
export const SEGMENT_SHIFT = 14;
export const SEGMENT_MASK = (1 << SEGMENT_SHIFT) - 1;
const SEGMENT_ROWS = 1 << SEGMENT_SHIFT;

/** The numeric columns of SEGMENT_ROWS rows. */
export class RowSegment {
  readonly id = new Float64Array(SEGMENT_ROWS);
  readonly created = new Float64Array(SEGMENT_ROWS);
  readonly runAt = new Float64Array(SEGMENT_ROWS);
  readonly startedAt = new Float64Array(SEGMENT_ROWS);
  readonly finishedAt = new Float64Array(SEGMENT_ROWS);
  readonly ttl = new Float64Array(SEGMENT_ROWS);
  readonly timeout = new Float64Array(SEGMENT_ROWS);
  readonly backoff = new Float64Array(SEGMENT_ROWS);
  readonly priority = new Int32Array(SEGMENT_ROWS);
  readonly attempts = new Int32Array(SEGMENT_ROWS);
  readonly maxAttempts = new Int32Array(SEGMENT_ROWS);
  readonly progress = new Int32Array(SEGMENT_ROWS);
  /** index into JobRows.names */
  readonly queue = new Int32Array(SEGMENT_ROWS);
  /** a payload in a block: its bytes [ds, de) */
  readonly ds = new Int32Array(SEGMENT_ROWS);
  readonly de = new Int32Array(SEGMENT_ROWS);
  /** index into STORED_STATES */
  readonly state = new Uint8Array(SEGMENT_ROWS);
  readonly lifo = new Uint8Array(SEGMENT_ROWS);
}

/**
 * Row i lives in `segments[i >> SEGMENT_SHIFT]` at slot `i & SEGMENT_MASK`. Columns grow by whole
 * segments, never by copying: doubling flat arrays cost a 1M-row reload ~0.4 s (the copies, the
 * fresh memory, and the collections its external allocation triggered).
 */
export class JobRows {
  count = 0;
  readonly segments: RowSegment[] = [];
  readonly names: string[] = [];
  /** a payload: its text, or the block whose ASCII bytes [ds, de) are its text */
  readonly data: Array<string | Buffer> = [];
  readonly extras = new Map<number, RowExtra>();
  private readonly nameIndex = new Map<string, number>();
  private block: Buffer = NO_BLOCK;
  private blockUsed = 0;

  static of(jobs: readonly RestoredJob[]): JobRows {
    const rows = new JobRows();
    for (const j of jobs) rows.push(j);
    return rows;
  }

  /** Room for one more row; returns its index (every column is zero until set). */
  add(): number {
    if ((this.count & SEGMENT_MASK) === 0 && this.count >> SEGMENT_SHIFT === this.segments.length) this.segments.push(new RowSegment());
    return this.count++;
  }

  segmentOf(i: number): RowSegment {
    return this.segments[i >> SEGMENT_SHIFT]!;
  }

  queueIndex(name: string): number {
    let i = this.nameIndex.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.nameIndex.set(name, i);
    }
    return i;
  }

  /** Row i's payload is the ASCII bytes [s, e) of `src` (copied into a block of the rows). */
  setAsciiData(i: number, src: Buffer, s: number, e: number): void {
    const n = e - s;
    if (n > BLOCK_BYTES >> 4) {
      this.data[i] = latin1Text(src, s, e);
      return;
    }
    if (this.blockUsed + n > this.block.length) {
      this.block = Buffer.allocUnsafeSlow(BLOCK_BYTES);
      this.blockUsed = 0;
    }
    src.copy(this.block, this.blockUsed, s, e);
    this.data[i] = this.block;
    const g = this.segmentOf(i);
    const k = i & SEGMENT_MASK;
    g.ds[k] = this.blockUsed;
    g.de[k] = this.blockUsed + n;
    this.blockUsed += n;
  }

  push(j: RestoredJob): number {
    const i = this.add();
    const g = this.segmentOf(i);
    const k = i & SEGMENT_MASK;
    const state = STORED_STATES.indexOf(j.state);
    if (state < 0) throw new Error(`job ${j.id} has an unknown state ${JSON.stringify(j.state)}`);
    g.id[k] = j.id;
    g.queue[k] = this.queueIndex(j.queue);
    g.state[k] = state;
    this.data[i] = j.data;
    g.priority[k] = j.priority;
    g.ttl[k] = j.ttl;
    g.timeout[k] = j.timeout;
    g.maxAttempts[k] = j.maxAttempts;
    g.backoff[k] = j.backoff;
    g.lifo[k] = j.lifo ? 1 : 0;
    g.created[k] = j.createdAt;
    g.runAt[k] = j.runAt;
    g.startedAt[k] = j.startedAt;
    g.attempts[k] = j.attempts;
    g.progress[k] = j.progress;
    g.finishedAt[k] = j.finishedAt;
    if (j.uniqueKey !== null || j.dependsOn.length > 0 || j.tags.length > 0 || j.progressMsg !== null || j.result !== null || j.error !== null) {
      this.extras.set(i, {
        uniqueKey: j.uniqueKey,
        dependsOn: j.dependsOn,
        tags: j.tags,
        progressMsg: j.progressMsg,
        result: j.result,
        error: j.error,
      });
    }
    return i;
  }

  id(i: number): number {
    return this.segmentOf(i).id[i & SEGMENT_MASK]!;
  }

  stateOf(i: number): StoredState {
    return STORED_STATES[this.segmentOf(i).state[i & SEGMENT_MASK]!]!;
  }

  queueOf(i: number): string {
    return this.names[this.segmentOf(i).queue[i & SEGMENT_MASK]!]!;
  }
}
