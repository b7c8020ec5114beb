/**
 * The flashQ TypeScript client (`flashq-ts/client`): a pipelined TCP client, Queue, a batching
 * Worker (in-thread or sandboxed in a piscina pool) and QueueEvents over WebSocket.
 *
 *   const client = new FlashqClient({ host: '127.0.0.1', port: 6789, token });
 *   await client.connect();
 *   const id = await client.push('emails', { to: 'a@b.c' }, { max_attempts: 3 });
 *
 *   const worker = new Worker('emails', async (job) => { await send(job.data); }, { concurrency: 50 });
 *   worker.on('failed', (job, err) => log(job.id, err));
 *   await worker.close();
 */
export { FlashqClient, type ClientOptions } from './client.js';
export { Connection, type ConnectionOptions, type ConnectionState, type RequestOptions } from './connection.js';
export { Worker, type WorkerOptions, type Handler, type JobContext, type WorkerJob, type LeaseLoss } from './worker.js';
export { Queue, type QueueOptions, type QueueCounts, type BrowsedJob, type RemovableState } from './queue.js';
export { QueueEvents, type QueueEventsOptions, type JobEvent, type EventType } from './queue-events.js';
export type { ProcessorRef } from './sandbox.js';
export { FlashqClientError, FlashqConnectionError, FlashqTimeoutError, type ConnectionErrorCode } from './errors.js';
export type { Framing } from './framing.js';
export type {
  Answer,
  BatchJob,
  Command,
  CronInfo,
  CronOptions,
  Job,
  JobProgress,
  JobState,
  JobWithState,
  Metrics,
  PullOptions,
  PushOptions,
  QueueInfo,
  QueueMetrics,
  Stats,
} from './types.js';
