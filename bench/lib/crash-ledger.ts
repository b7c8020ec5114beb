import postgres from 'postgres';

/**
 * What a crash run's clients saw, and the accounting against the jobs table at the end. Shared by
 * the single-node crash suite (bench/crash.ts) and the cluster one (bench/cluster-crash.ts).
 *
 * The rule under at-least-once delivery: a job is **completed twice** when it is delivered again
 * after an ACK for it was answered ok, or when two ACKs for it are answered ok. A job delivered
 * again after its earlier delivery's ACK failed (or was never sent: the worker's connection or its
 * node died) is a **redelivery**: allowed, counted apart.
 */
export class CrashLedger {
  /** ids of pushes answered ok */
  readonly pushed = new Set<number>();
  /** ids whose ACK was answered ok */
  readonly acked = new Set<number>();
  /** deliveries seen by workers, per job id */
  private readonly deliveries = new Map<number, number>();
  completedTwice = 0;
  redelivered = 0;
  /** pushes answered with an error (nothing acknowledged; the job may exist or not) */
  refused = 0;
  /** pushes whose answer never came (the connection died): they may or may not exist */
  unanswered = 0;
  /** ACKs answered with an error (the job comes back unless the ACK committed before the error) */
  ackFailed = 0;

  /** tags (`data.k`) of the jobs of refused pushes → the refusal's kind */
  private readonly refusedTags = new Map<string, RefusalKind>();

  /** A push answered with an error; `tags` are the `data.k` of its jobs (see `account`). */
  pushRefused(tags: Iterable<string>, error: string): void {
    this.refused++;
    const kind = refusalKind(error);
    for (const t of tags) this.refusedTags.set(t, kind);
  }

  refusalOf(tag: string): RefusalKind | undefined {
    return this.refusedTags.get(tag);
  }

  pushOk(ids: Iterable<number>): void {
    for (const id of ids) this.pushed.add(id);
  }

  /** ids completed twice, with what happened (for the investigation) */
  readonly twice: Array<{ id: number; what: string; at: number }> = [];

  delivered(id: number, where = ''): void {
    const n = this.deliveries.get(id) ?? 0;
    this.deliveries.set(id, n + 1);
    if (this.acked.has(id)) {
      this.completedTwice++;
      this.twice.push({ id, what: `delivered again after an ok ack ${where}`, at: Date.now() });
    } else if (n > 0) this.redelivered++;
  }

  ackOk(id: number, where = ''): void {
    if (this.acked.has(id)) {
      this.completedTwice++;
      this.twice.push({ id, what: `acked ok twice ${where}`, at: Date.now() });
    }
    this.acked.add(id);
  }

  get deliveredJobs(): number {
    return this.deliveries.size;
  }
}

/**
 * What a refusal says about the push: `refused` (nothing was done: the partition is not served
 * there, the link to its owner was down before sending), `uncertain` (the owner's link dropped
 * with the request in flight: it may have committed), `other`.
 */
export type RefusalKind = 'refused' | 'uncertain' | 'other';

export function refusalKind(error: string): RefusalKind {
  if (/may have been applied/i.test(error)) return 'uncertain';
  if (/not served|not sent|moved; retry/i.test(error)) return 'refused';
  return 'other';
}

export interface Accounting {
  lostIds: number[];
  /** jobs of refused pushes found stored, by the refusal's kind (`refused` must stay 0) */
  storedRefused: Record<RefusalKind, number>;
  /** pushes answered ok whose job is not completed at the end */
  lost: number;
  /** acks answered ok whose job is not completed at the end */
  ackReverted: number;
  /** jobs in the table not completed at the end */
  leftActive: number;
  /** jobs in the table */
  stored: number;
}

const INT8 = { types: { int8: { to: 20, from: [20], serialize: String, parse: Number } } as never };

export async function freshDatabase(adminUrl: string, prefix = 'crash'): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now() % 1e6}`;
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropDatabase(adminUrl: string, url: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists ${new URL(url).pathname.slice(1)} with (force)`);
  } finally {
    await sql.end();
  }
}

/** The final accounting of `ledger` against the jobs table of `url` (servers stopped or settled). */
export async function account(url: string, ledger: CrashLedger): Promise<Accounting> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, ...INT8 });
  let rows: Array<{ id: number; state: string; data: string }>;
  try {
    rows = await sql.unsafe<Array<{ id: number; state: string; data: string }>>('select id, state, data from flashq_jobs');
  } finally {
    await sql.end();
  }
  const state = new Map(rows.map((r) => [r.id, r.state]));
  const lostIds: number[] = [];
  for (const id of ledger.pushed) if (state.get(id) !== 'completed') lostIds.push(id);
  const lost = lostIds.length;
  let ackReverted = 0;
  for (const id of ledger.acked) if (state.get(id) !== 'completed') ackReverted++;
  const storedRefused: Record<RefusalKind, number> = { refused: 0, uncertain: 0, other: 0 };
  for (const r of rows) {
    const tag = tagOf(r.data);
    const kind = tag === undefined ? undefined : ledger.refusalOf(tag);
    if (kind !== undefined) storedRefused[kind]++;
  }
  return { lostIds, storedRefused, lost, ackReverted, leftActive: rows.filter((r) => r.state !== 'completed').length, stored: rows.length };
}

/** `--name=value` of the command line as a number, or `def`. */
export function numberArg(name: string, def: number): number {
  const m = process.argv.find((a) => a.startsWith(`--${name}=`));
  return m ? Number(m.split('=')[1]) : def;
}

export const rnd = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));

function tagOf(data: string): string | undefined {
  try {
    const k = (JSON.parse(data) as { k?: unknown }).k;
    return typeof k === 'string' ? k : undefined;
  } catch {
    return undefined;
  }
}
