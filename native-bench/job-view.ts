import type { JobView } from '../src/engine/types.js';

/** An active job as the engine hands it to the encoders: the fixture every codec bench encodes. */
export function activeJobView(fields: Pick<JobView, 'id' | 'data' | 'priority' | 'createdAt' | 'startedAt'>): JobView {
  return {
    queue: 'emails',
    runAt: fields.createdAt,
    attempts: 1,
    maxAttempts: 3,
    backoff: 1000,
    ttl: 0,
    timeout: 30_000,
    uniqueKey: null,
    dependsOn: [],
    progress: 0,
    progressMsg: null,
    tags: [],
    lifo: false,
    state: 'active',
    result: null,
    error: null,
    finishedAt: 0,
    owner: 1,
    ...fields,
  };
}
