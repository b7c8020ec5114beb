import type { EngineEvent } from '../engine/types.js';

/** Events as one JSON array, payloads spliced in as their stored JSON text. */
export function eventsJson(events: EngineEvent[]): string {
  let s = '[';
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    if (i > 0) s += ',';
    s += `{"event_type":"${ev.type}","queue":"${ev.queue}","job_id":${ev.jobId},"timestamp":${ev.timestamp}`;
    if (ev.data !== null) s += `,"data":${ev.data}`;
    if (ev.error !== null) s += `,"error":${JSON.stringify(ev.error)}`;
    if (ev.progress !== null) s += `,"progress":${ev.progress}`;
    s += '}';
  }
  return s + ']';
}
