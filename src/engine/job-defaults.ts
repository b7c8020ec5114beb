import type { JobInput } from './types.js';

/** The API document's defaults for options a push leaves out. */
export const DEFAULT_BACKOFF_MS = 1000;

/**
 * The job option rules every surface shares: `max_attempts` 0 (or left out) means one attempt;
 * `backoff` left out means DEFAULT_BACKOFF_MS (gRPC cannot tell 0 from absent, so its 0 is "left
 * out"); negative durations count as 0.
 */
export function attemptsOf(requested: number): number {
  return requested >= 1 ? requested : 1;
}

export function backoffOf(requested: number | undefined): number {
  return requested === undefined ? DEFAULT_BACKOFF_MS : requested > 0 ? requested : 0;
}

const NO_IDS: number[] = [];
const NO_TAGS: string[] = [];

/** A job of `data` with every option at its default (cron runs, incoming webhooks). */
export function defaultJobInput(data: string, priority = 0): JobInput {
  return {
    data,
    priority,
    delay: 0,
    ttl: 0,
    timeout: 0,
    maxAttempts: 1,
    backoff: DEFAULT_BACKOFF_MS,
    uniqueKey: null,
    dependsOn: NO_IDS,
    tags: NO_TAGS,
    lifo: false,
    block: null,
    ds: 0,
    de: 0,
  };
}
