import type { JobInput } from './types.js';

/** The API document's defaults for options a push leaves out. */
export const DEFAULT_BACKOFF_MS = 1000;

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
