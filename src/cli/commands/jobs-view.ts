/** How jobs read in a terminal: one row each, the payload cut to fit. */
import type { Job } from '../../client/index.js';
import { ago, table } from '../output.js';

export function payload(v: unknown, max = 48): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function jobTable(jobs: (Job & { state?: string })[], withState = false): string {
  const header = ['id', 'queue', ...(withState ? ['state'] : []), 'pri', 'attempts', 'created', 'data'];
  const now = Date.now();
  return table(
    header,
    jobs.map((j) => [j.id, j.queue, ...(withState ? [j.state ?? '-'] : []), j.priority, `${j.attempts}/${j.max_attempts}`, ago(j.created_at, now), payload(j.data)]),
  );
}
