import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import type { EngineOptions } from '../../src/engine/api.js';
import type { JobInput, JobView } from '../../src/engine/types.js';
import { FlashqError } from '../../src/base/errors.js';

/** 2024-01-01T00:00:00Z, a Monday: every test drives the clock from here. */
export const T0 = Date.UTC(2024, 0, 1);

export function engine(opts: Partial<EngineOptions> = {}): Engine {
  return new Engine({ owns: () => true, keepCompleted: 1000, maxQueues: 10_000, persist: false, ...opts });
}

export function job(overrides: Partial<JobInput> = {}): JobInput {
  return {
    data: '{}',
    priority: 0,
    delay: 0,
    ttl: 0,
    timeout: 0,
    maxAttempts: 1,
    backoff: 1000,
    uniqueKey: null,
    dependsOn: [],
    tags: [],
    lifo: false,
    ...overrides,
  };
}

/** Push one job and return its id. */
export function push(e: Engine, queue: string, overrides: Partial<JobInput> = {}, now = T0): number {
  return e.push(queue, [job(overrides)], now)[0]!.id;
}

/** Pull everything deliverable, one call of up to 1000, and return the payloads in order. */
export function drain(e: Engine, queue: string, now = T0, owner = 1): string[] {
  return e.pull(queue, 1000, now, owner).map((j) => j.data);
}

export function ids(views: readonly JobView[]): number[] {
  return views.map((v) => v.id);
}

/** Assert that fn throws a FlashqError with exactly this message. */
export function throwsFlashq(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FlashqError, `expected a FlashqError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}
