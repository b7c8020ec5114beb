/** The engine's public surface, for the layers above it (shard, protocol, store). */
export { Engine } from './engine.js';
export type { EngineApi, EngineOptions, RestoreInput, RestoredJob } from './api.js';
export * from './types.js';
export { partitionOf, jobIdOf, partitionOfId, seqOfId } from './partition.js';
export { isValidName, validateQueueName, MAX_NAME_LENGTH } from './names.js';
export { nextRunAfter, validateSchedule, MAX_SCHEDULE_LENGTH } from './cron-schedule.js';
export { snapshotJob } from './job.js';
export { TTL_EXPIRED, TIMED_OUT, CONNECTION_LOST } from './state.js';
