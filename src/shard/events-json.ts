import type { EngineEvent } from '../engine/types.js';

/**
 * One event as its JSON object, payload spliced in as its stored JSON text. The type and the
 * queue come first, so where the queue's bytes sit is known without reading the text
 * (eventQueueStart): the record header carries both, and the front never scans the JSON.
 */
export function eventJson(ev: EngineEvent): string {
  let s = `{"event_type":"${ev.type}","queue":"${ev.queue}","job_id":${ev.jobId},"timestamp":${ev.timestamp}`;
  if (ev.data !== null) s += `,"data":${ev.data}`;
  if (ev.error !== null) s += `,"error":${JSON.stringify(ev.error)}`;
  if (ev.progress !== null) s += `,"progress":${ev.progress}`;
  return s + '}';
}

/** Offset of the queue name's first byte in eventJson's text (`{"event_type":"T","queue":"`). */
export function eventQueueStart(ev: EngineEvent): number {
  return 15 + ev.type.length + 11;
}
