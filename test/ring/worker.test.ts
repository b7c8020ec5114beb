import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { createLink, RingLink, type LinkEnd } from '../../src/ring/link.js';
import { FrameBuilder, FrameReader } from '../../src/ring/records.js';
import { Kind } from '../../src/ring/kinds.js';
import { prng } from '../helpers/prng.js';

// This file is both the tests (main thread) and the echo shard they talk to (worker thread), so
// the test runner never mistakes a helper module for a test file.

/** The shard side: answer every REQUEST with an ANSWER carrying the same fields and payload. */
function echoShard(end: LinkEnd): void {
  const out = new FrameBuilder();
  const rd = new FrameReader();
  let records = 0;
  let blocked = 0;
  const link = new RingLink(
    end,
    (frame) => {
      rd.reset(frame);
      out.reset();
      while (rd.next()) {
        if (rd.kind === Kind.CONTROL) {
          out.add(Kind.CONTROL, 0, 0, records, blocked, ''); // fits even the 64-byte ring
          continue;
        }
        records++;
        out.add(Kind.ANSWER, rd.format, rd.code, rd.conn, rd.seq, rd.payload());
      }
      if (!link.send(out.finish())) blocked++;
    },
    { holdInboundWhileBlocked: true },
  );
  end.port.on('close', () => link.close());
}

if (!isMainThread) {
  echoShard((workerData as { end: LinkEnd }).end);
} else {
  registerTests();
}

/** Fails the test instead of hanging when progress stops (a lost wake-up shows up as a stall). */
function deadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms (a lost wake-up stalls here)`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** Busy-wait a few µs to shift where the next write lands in the worker's drain loop (not a sleep: no semantics wait on it). */
function jitter(ns: number): void {
  const until = process.hrtime.bigint() + BigInt(Math.floor(ns));
  while (process.hrtime.bigint() < until);
}

/** A front talking to one echo worker, checking every answer in order as it arrives. */
function startEcho(capacity: number, payloadFor: (seq: number) => Uint8Array) {
  const { front, shard } = createLink(capacity);
  const worker = new Worker(new URL(import.meta.url), { workerData: { end: shard }, transferList: [shard.port] });
  const rd = new FrameReader();
  const state = { received: 0, want: 0, wake: null as null | (() => void), stats: null as null | { records: number; blocked: number } };
  const link = new RingLink(front, (frame) => {
    rd.reset(frame);
    while (rd.next()) {
      if (rd.kind === Kind.CONTROL) {
        state.stats = { records: rd.conn, blocked: rd.seq };
        continue;
      }
      const seq = state.received;
      assert.equal(rd.kind, Kind.ANSWER);
      assert.equal(rd.seq, seq, 'answers come back in order, none missing');
      assert.equal(rd.conn, seq % 977);
      assert.equal(rd.code, seq & 0xffff);
      assert.equal(rd.format, seq & 3);
      assert.deepEqual(rd.payload(), Buffer.from(payloadFor(seq)));
      state.received++;
    }
    if (state.wake && (state.received >= state.want || state.stats)) {
      const w = state.wake;
      state.wake = null;
      w();
    }
  });
  const b = new FrameBuilder();
  let seq = 0;
  const api = {
    state,
    link,
    get sent() {
      return seq;
    },
    /** Send `n` records in one frame, honouring back-pressure. */
    async sendFrame(n: number): Promise<void> {
      b.reset();
      for (let i = 0; i < n; i++, seq++) b.add(Kind.REQUEST, seq & 3, seq & 0xffff, seq % 977, seq, payloadFor(seq));
      if (!link.send(b.finish())) await new Promise<void>((r) => (link.onDrain = r));
    },
    /** Resolve once every record sent so far has been answered. */
    caughtUp(): Promise<void> {
      if (state.received >= seq) return Promise.resolve();
      state.want = seq;
      return new Promise((r) => (state.wake = r));
    },
    async workerStats(): Promise<{ records: number; blocked: number }> {
      state.stats = null;
      state.want = Number.POSITIVE_INFINITY;
      b.reset();
      b.add(Kind.CONTROL, 0, 0, 0, 0, '');
      if (!link.send(b.finish())) await new Promise<void>((r) => (link.onDrain = r));
      await new Promise<void>((r) => (state.wake = r));
      return state.stats!;
    },
    async stop(): Promise<void> {
      link.close();
      await worker.terminate();
    },
  };
  return api;
}

function registerTests(): void {
  const scratch = new Uint8Array(64);
  const payloadFor = (seq: number): Uint8Array => {
    const len = seq % 33;
    for (let i = 0; i < len; i++) scratch[i] = (seq + i) & 255;
    return scratch.subarray(0, len);
  };

  test('a worker echoes 1M records in batches through two small rings: nothing lost or reordered', async (t) => {
    const echo = startEcho(128 * 1024, payloadFor); // ~3 frames of 1000 records fit: constant back-pressure
    try {
      await deadline(
        (async () => {
          while (echo.sent < 1_000_000) await echo.sendFrame(1000);
          await echo.caughtUp();
        })(),
        60_000,
        '1M echo',
      );
      assert.equal(echo.state.received, 1_000_000);
      const stats = await deadline(echo.workerStats(), 10_000, 'stats');
      assert.equal(stats.records, 1_000_000);
      t.diagnostic(`worker outbound blocked ${stats.blocked} times`);
    } finally {
      await echo.stop();
    }
  });

  test('many tiny bursts with the worker going idle in between never stall (data wake-ups)', async () => {
    const echo = startEcho(64 * 1024, payloadFor);
    const rnd = prng(7);
    try {
      await deadline(
        (async () => {
          for (let burst = 0; burst < 40_000; burst++) {
            // The worker wakes and drains a frame in roughly 5-15 µs; landing the next frame at a
            // random point of that makes it arrive, now and then, exactly while the worker is
            // going idle: the race markIdle must win. The last frame of a burst is the one whose
            // lost wake-up would stall (nothing follows to ping again).
            const frames = 2 + Math.floor(rnd() * 2);
            for (let f = 0; f < frames; f++) {
              if (f > 0) jitter(rnd() * 15_000);
              await echo.sendFrame(1 + Math.floor(rnd() * 2));
            }
            await echo.caughtUp();
          }
        })(),
        30_000,
        'tiny bursts',
      );
      assert.equal(echo.state.received, echo.sent);
    } finally {
      await echo.stop();
    }
  });

  test('a ring of 64 bytes (one record per frame) blocks both directions constantly and still never stalls (space wake-ups)', async (t) => {
    const tinyPayload = (seq: number) => payloadFor(seq).subarray(0, seq % 13); // 16 + 12 ≤ maxFrame 28
    const echo = startEcho(64, tinyPayload);
    const rnd = prng(8);
    try {
      await deadline(
        (async () => {
          for (let burst = 0; burst < 5_000; burst++) {
            const frames = 1 + Math.floor(rnd() * 20);
            for (let f = 0; f < frames; f++) await echo.sendFrame(1);
            if (rnd() < 0.5) await echo.caughtUp();
          }
          await echo.caughtUp();
        })(),
        30_000,
        'tiny ring',
      );
      assert.equal(echo.state.received, echo.sent);
      const stats = await deadline(echo.workerStats(), 10_000, 'stats');
      t.diagnostic(`${echo.sent} records; worker outbound blocked ${stats.blocked} times`);
      assert.ok(stats.blocked > 0, 'the worker did hit a full ring');
    } finally {
      await echo.stop();
    }
  });
}
