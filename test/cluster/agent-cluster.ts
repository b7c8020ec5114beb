import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hold } from '../../src/cluster/fencing.js';
import { PARTITIONS } from '../../src/engine/types.js';
import type { Sql } from '../../src/store/connection.js';
import { waitFor } from '../helpers/server.js';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), 'agent-process.js');

export interface AgentEvent {
  ev: string;
  partition?: number;
  epoch?: number;
  reason?: string;
  term?: number | null;
  tag?: string;
  ok?: boolean;
  fenced?: boolean;
  error?: string;
}

/** One agent-only node in a child process, and what its events say it holds. */
export class AgentProc {
  readonly events: AgentEvent[] = [];
  /** partition → epoch, as the gained/lost events leave it */
  readonly held = new Map<number, number>();
  private out = '';
  readonly exited: Promise<void>;

  private constructor(
    readonly nodeId: string,
    readonly proc: ChildProcess,
  ) {
    let buf = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{"ev"')) this.record(JSON.parse(line) as AgentEvent);
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.exited = new Promise((res) => proc.once('exit', () => res()));
  }

  static async start(url: string, nodeId: string, ttlMs: number): Promise<AgentProc> {
    const env = { ...process.env, CLUSTER_MODE: '1', DATABASE_URL: url, NODE_ID: nodeId, LEASE_TTL_MS: String(ttlMs), LOG_LEVEL: 'warn' };
    const a = new AgentProc(nodeId, spawn(process.execPath, [SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    await a.waitEvent((e) => e.ev === 'started', 15_000, 'start');
    return a;
  }

  private record(e: AgentEvent): void {
    this.events.push(e);
    if (e.ev === 'gained') this.held.set(e.partition!, e.epoch!);
    if (e.ev === 'lost' && this.held.get(e.partition!) === e.epoch) this.held.delete(e.partition!);
  }

  output(): string {
    return this.out;
  }

  send(cmd: Record<string, unknown>): void {
    this.proc.stdin!.write(JSON.stringify(cmd) + '\n');
  }

  waitEvent(pred: (e: AgentEvent) => boolean, timeoutMs: number, what: string): Promise<AgentEvent> {
    return waitFor(() => this.events.find(pred), timeoutMs, `${this.nodeId}: ${what}\n${this.out.slice(-2000)}`) as Promise<AgentEvent>;
  }

  holds(): Hold[] {
    return [...this.held].map(([partition, epoch]) => ({ partition, epoch }));
  }

  /** A commit fenced on explicit holds, or on the agent's own epochs for `partitions`. */
  async commit(tag: string, by: { holds: Hold[] } | { partitions: number[] }): Promise<AgentEvent> {
    this.send({ cmd: 'commit', tag, ...by });
    return this.waitEvent((e) => e.ev === 'commit' && e.tag === tag, 10_000, `commit ${tag}`);
  }

  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }
}

export interface LeaseRow {
  partition: number;
  owner: string | null;
  epoch: number;
}

/** The partition rows, with owner null where the lease has expired (the database's clock). */
export async function leaseRows(sql: Sql): Promise<LeaseRow[]> {
  return sql.unsafe<LeaseRow[]>(
    'select partition, case when expires_at > now() then owner end as owner, epoch from flashq_partitions order by partition',
  );
}

export async function leader(sql: Sql): Promise<{ owner: string | null; term: number }> {
  const r = await sql.unsafe<Array<{ owner: string | null; term: number }>>(
    'select case when expires_at > now() then owner end as owner, term from flashq_leader',
  );
  return r[0]!;
}

/**
 * Null unless the cluster is settled on `nodes`: a live leader among them, every partition leased
 * to one of them in the database, and the nodes' own views (their gained/lost events) agreeing
 * with it: disjoint, covering every partition, balanced within 1.
 */
export async function settled(sql: Sql, nodes: AgentProc[]): Promise<{ rows: LeaseRow[]; leader: string } | null> {
  const lead = await leader(sql);
  if (lead.owner === null || !nodes.some((n) => n.nodeId === lead.owner)) return null;
  const rows = await leaseRows(sql);
  for (const r of rows) {
    const n = nodes.find((x) => x.nodeId === r.owner);
    if (n === undefined || n.held.get(r.partition) !== r.epoch) return null;
  }
  const total = nodes.reduce((s, n) => s + n.held.size, 0);
  if (total !== PARTITIONS) return null;
  const sizes = nodes.map((n) => n.held.size);
  if (Math.max(...sizes) - Math.min(...sizes) > 1) return null;
  return { rows, leader: lead.owner };
}
