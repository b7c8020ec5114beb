/** What a TCP load thread is given and gives back (bench/tcp-load.ts, bench/tcp-load-single.ts). */
import type { Framing } from './raw.js';

export interface LoadParams {
  port: number;
  framing: Framing;
  mode: 'raw' | 'client';
  queue: string;
  /** jobs this thread pushes (or, for pull loads, pre-fills) */
  n: number;
  bytes: number;
  /** PUSHB/PULLB size */
  batch: number;
  /** requests kept in flight */
  inFlight: number;
  /** worker concurrency */
  concurrency?: number;
  /** epoch ms after which the load gives up */
  deadline: number;
  /** shared across threads: jobs taken so far, so threads that drain one queue stop together */
  counter?: Int32Array;
  /** jobs over all threads */
  total?: number;
}

export interface LoadResult {
  ops: number;
  t0: number;
  t1: number;
  /** µs per request, for latency loads */
  lat?: Float64Array;
  pushed: Float64Array;
  done: Float64Array;
}
