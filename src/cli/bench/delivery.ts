/**
 * Exact-delivery checks. Loads log ids into IdLogs (typed arrays, so a million ids cost 8 MB and
 * cross threads as one buffer); the check sorts and compares them once the run is over, so it
 * costs nothing while the clock runs.
 */

export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

/** A growable list of ids. */
export class IdLog {
  private buf: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Float64Array(Math.max(16, capacity));
  }

  add(id: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = id;
  }

  /** A right-sized copy, cheap to post to another thread. */
  toArray(): Float64Array {
    return this.buf.slice(0, this.length);
  }
}

function concat(parts: Float64Array[]): Float64Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float64Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function duplicates(sorted: Float64Array): number {
  let d = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) d++;
  return d;
}

/**
 * Every pushed id was accepted once (no id handed out twice) and processed exactly once: no id
 * missing, none processed twice, none processed that was never pushed.
 */
export function checkExactlyOnce(what: string, pushed: Float64Array[], processed: Float64Array[]): void {
  const p = concat(pushed).sort();
  const d = concat(processed).sort();
  const dupPushed = duplicates(p);
  const dupDone = duplicates(d);
  let missing = 0;
  let unknown = 0;
  let i = 0;
  let j = 0;
  while (i < p.length || j < d.length) {
    if (j >= d.length || (i < p.length && p[i]! < d[j]!)) {
      if (i === 0 || p[i] !== p[i - 1]) missing++;
      i++;
    } else if (i >= p.length || d[j]! < p[i]!) {
      if (j === 0 || d[j] !== d[j - 1]) unknown++;
      j++;
    } else {
      const v = p[i]!;
      while (i < p.length && p[i] === v) i++;
      while (j < d.length && d[j] === v) j++;
    }
  }
  if (p.length === 0 || dupPushed || dupDone || missing || unknown) {
    throw new DeliveryError(
      `${what}: exact delivery violated: pushed ${p.length} (${dupPushed} duplicate ids), processed ${d.length} ` +
        `(${dupDone} twice, ${missing} never, ${unknown} unknown ids)`,
    );
  }
}

/** For steps that only push: every job got its own id and the queue holds exactly that many. */
export function checkAccepted(what: string, pushed: Float64Array[], expected: number, waiting: number): void {
  const p = concat(pushed).sort();
  const dup = duplicates(p);
  if (p.length !== expected || dup || waiting !== expected) {
    throw new DeliveryError(`${what}: pushed ${expected}, got ${p.length} ids (${dup} duplicates), queue holds ${waiting}`);
  }
}
