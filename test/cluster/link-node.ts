import { Dispatcher, type AnswerSink } from '../../src/front/dispatcher.js';
import { Fanout } from '../../src/front/fanout.js';
import { InlineLink } from '../../src/front/inline-link.js';
import { LinkServer, type LinkServerOptions } from '../../src/cluster/link/link-server.js';
import { PeerClient, type PeerClientOptions } from '../../src/cluster/link/peer-client.js';
import type { LinkEventSink, LocalNode, PeerOutput } from '../../src/cluster/link/types.js';
import { Kind } from '../../src/ring/kinds.js';
import { Format } from '../../src/protocol/result.js';
import { partitionOf } from '../../src/engine/partition.js';
import { PARTITIONS } from '../../src/engine/types.js';

/**
 * A real node for the link tests: a Dispatcher with the inline shard (SHARDS=0, the engine on this
 * thread, memory store) behind the LocalNode interface, the way the server will wire it.
 */
export class TestNode implements LocalNode {
  readonly dispatcher = new Dispatcher(1);
  readonly fanout = new Fanout(this.dispatcher);
  readonly shard: InlineLink;
  /** partitions this node serves */
  served = new Set<number>(Array.from({ length: PARTITIONS }, (_, p) => p));
  closedConns: Array<{ conn: number; shards: number[] }> = [];
  private eventSinks = new Set<LinkEventSink>();

  constructor() {
    this.shard = new InlineLink(0, { index: 0, count: 1, keepCompleted: 1000, maxQueues: 10_000, maxBatch: 1000 }, this.dispatcher);
    this.dispatcher.attach([this.shard]);
    this.dispatcher.eventSink = {
      event: (type, buf, start, end, qs, qe) => {
        for (const s of this.eventSinks) s.event(type, buf, start, end, qs, qe);
      },
      endBatch: () => {
        for (const s of this.eventSinks) s.endBatch();
      },
    };
  }

  allocConn(sink: AnswerSink): number {
    return this.dispatcher.allocConn(sink);
  }
  releaseConn(id: number): void {
    this.dispatcher.releaseConn(id);
  }
  send(shard: number, kind: number, format: Format, conn: number, seq: number, payload: Uint8Array): void {
    this.dispatcher.send(shard, kind, format, conn, seq, payload);
  }
  connClosed(conn: number, shards: Iterable<number>): void {
    this.closedConns.push({ conn, shards: [...shards] });
    this.dispatcher.connClosed(conn, shards);
  }
  shardOfPartition(p: number): number {
    return this.served.has(p) ? 0 : -1;
  }
  nodeWide(format: Format, payload: Uint8Array): Promise<{ code: number; bytes: Uint8Array }> {
    return this.fanout.run(payload, format);
  }
  subscribeEvents(sink: LinkEventSink): () => void {
    this.eventSinks.add(sink);
    if (this.eventSinks.size === 1) this.dispatcher.broadcastControl({ op: 'events', on: true, queues: null });
    return () => {
      this.eventSinks.delete(sink);
      if (this.eventSinks.size === 0) this.dispatcher.broadcastControl({ op: 'events', on: false, queues: null });
    };
  }
  get subscribers(): number {
    return this.eventSinks.size;
  }

  /** A request straight to the local shard (no link): the reference the link's answers are checked against. */
  ask(line: string): Promise<unknown> {
    return this.dispatcher.ask(0, Format.TcpJson, line).then((a) => JSON.parse(Buffer.from(a.bytes).toString('utf8')));
  }

  close(): Promise<void> {
    return this.shard.close();
  }
}

export interface Answer {
  conn: number;
  seq: number;
  code: number;
  text: string;
}

/** What an origin node's Dispatcher would get from the peer: answers and events, recorded. */
export class Recorder implements PeerOutput {
  answers: Answer[] = [];
  events: Array<{ type: number; json: string; queue: string }> = [];
  turns = 0;
  private waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  answer(conn: number, seq: number, code: number, bytes: Uint8Array): void {
    this.answers.push({ conn, seq, code, text: Buffer.from(bytes).toString('utf8') });
  }
  remoteEvent(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void {
    this.events.push({ type, json: buf.toString('utf8', start, end), queue: buf.toString('utf8', qs, qe) });
  }
  turnDone(): void {
    this.turns++;
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolve once `test` holds (checked after every delivered turn), or fail after `ms`. */
  until(test: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; answers so far: ${this.answers.length}`)), ms);
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  of(conn: number): Answer[] {
    return this.answers.filter((a) => a.conn === conn);
  }
}

export const SECRET = 'a-cluster-secret-of-some-length';

export interface Pair {
  owner: TestNode;
  server: LinkServer;
  port: number;
  client: PeerClient;
  out: Recorder;
  close(): Promise<void>;
}

/** An owner node with its LinkServer on a loopback port, and an origin's PeerClient to it. */
export async function pair(server: Partial<LinkServerOptions> = {}, client: Partial<PeerClientOptions> = {}): Promise<Pair> {
  const owner = new TestNode();
  const ls = new LinkServer({ nodeId: 'node-b', secret: SECRET, tls: null, local: owner, ...server });
  const port = await ls.listen(0, '127.0.0.1');
  const out = new Recorder();
  const pc = new PeerClient({ nodeId: 'node-a', peerId: 'node-b', host: '127.0.0.1', port, secret: SECRET, tls: null, output: out, ...client });
  return {
    owner,
    server: ls,
    port,
    client: pc,
    out,
    close: async () => {
      await pc.close();
      await ls.close();
      await owner.close();
    },
  };
}

/** Resolve once `test` holds, polling each turn of the event loop, or fail after `ms`. */
export async function waitFor(test: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Send TCP-JSON request lines through the peer for the partition of their queue (or `target`). */
export function send(client: PeerClient, conn: number, seq: number, req: Record<string, unknown>, target?: number): void {
  const t = target ?? (typeof req.queue === 'string' ? partitionOf(req.queue) : typeof req.id === 'number' ? req.id % PARTITIONS : 0);
  const link = client.target(t);
  link.add(Kind.REQUEST, Format.TcpJson, conn, seq, JSON.stringify(req));
  link.flush();
}
