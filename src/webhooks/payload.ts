import { type JsonWalk, skipWs } from '../protocol/json-walk.js';
import { bytesEqual } from '../base/bytes.js';
import type { BusEvent } from '../events/catalogue.js';

/**
 * The delivery body of one event, built from the event's bytes without parsing its payload:
 * `{"event","queue","job_id","timestamp","data","error"}` with `data`/`error` null when absent
 * (compat.md "Events"); job.progress events also carry `progress`, without which they say nothing.
 */
export function webhookBody(ev: BusEvent, walk: JsonWalk): Buffer {
  const b = ev.buf;
  const end = ev.end;
  let jobId: [number, number] | null = null;
  let ts: [number, number] | null = null;
  let data: [number, number] | null = null;
  let error: [number, number] | null = null;
  let progress: [number, number] | null = null;
  let i = skipWs(b, ev.start + 1, end);
  while (i < end && b[i] === 0x22) {
    const ks = i + 1;
    i = walk.skipString(b, i, end);
    if (i < 0) break;
    const ke = i - 1;
    i = skipWs(b, i, end);
    if (b[i] !== 0x3a) break;
    const vs = skipWs(b, i + 1, end);
    const ve = walk.skipValue(b, vs, end);
    if (ve < 0) break;
    if (bytesEqual(b, ks, ke, 'job_id')) jobId = [vs, ve];
    else if (bytesEqual(b, ks, ke, 'timestamp')) ts = [vs, ve];
    else if (bytesEqual(b, ks, ke, 'data')) data = [vs, ve];
    else if (bytesEqual(b, ks, ke, 'error')) error = [vs, ve];
    else if (bytesEqual(b, ks, ke, 'progress')) progress = [vs, ve];
    i = skipWs(b, ve, end);
    if (b[i] !== 0x2c) break;
    i = skipWs(b, i + 1, end);
  }
  const text = (span: [number, number] | null, def: string) => (span === null ? def : b.toString('utf8', span[0], span[1]));
  const head = `{"event":"${ev.type}","queue":${JSON.stringify(ev.queue)},"job_id":${text(jobId, 'null')},"timestamp":${text(ts, '0')}`;
  const parts: Buffer[] = [Buffer.from(`${head},"data":`, 'utf8')];
  parts.push(data === null ? NULL : b.subarray(data[0], data[1]));
  parts.push(Buffer.from(`,"error":${text(error, 'null')}${progress === null ? '' : `,"progress":${text(progress, 'null')}`}}`, 'utf8'));
  // a copy: the event's bytes belong to the shard batch and are reused after this call
  return Buffer.concat(parts);
}

const NULL = Buffer.from('null', 'latin1');
