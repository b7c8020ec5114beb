/**
 * The cost of the internal link between nodes: pipelined PUSH and sequential PUSH round trips sent
 * straight to a node's Dispatcher (inline engine, SHARDS=0) against the same requests forwarded
 * through PeerClient → loopback socket → LinkServer → that Dispatcher and back, plain and over
 * mutual TLS. One process: both ends of the link run on this thread, so a forwarded request's cost
 * here is the origin's and the owner's work together (in a cluster they run on two nodes).
 * `npm run build && node dist/bench/cluster-link.js [--quick] [--no-write]`
 */
import { loadavg } from 'node:os';
import { Kind } from '../src/ring/kinds.js';
import { Format } from '../src/protocol/result.js';
import { partitionOf } from '../src/engine/partition.js';
import { LinkServer } from '../src/cluster/link/link-server.js';
import { PeerClient } from '../src/cluster/link/peer-client.js';
import type { LinkTls, PeerOutput } from '../src/cluster/link/types.js';
import { TestNode, SECRET } from '../test/cluster/link-node.js';
import { makeNodePki, type NodePki } from '../test/helpers/tls.js';
import { fmt, machine, median, writeSection } from '../native-bench/report.js';

const quick = process.argv.includes('--quick');
const write = !process.argv.includes('--no-write');
const N = quick ? 20_000 : 100_000;
const ROUNDS = quick ? 2 : 9;
const WINDOW = 1000;
const RTT_N = quick ? 1000 : 5000;
const QUEUE = 'bench-link';
const PAYLOAD = Buffer.from(JSON.stringify({ cmd: 'PUSH', queue: QUEUE, data: { text: 'x'.repeat(80), n: 12345 } }));

/** How requests leave, and where the turn's answers come back. */
interface Path {
  name: string;
  send(conn: number, seq: number): void;
  flush(): void;
  /** register the function called at the end of each turn of answers */
  onTurn(fn: () => void): void;
  conn(deliver: (seq: number) => void): number;
}

function directPath(node: TestNode): Path {
  let turn: () => void = () => {};
  return {
    name: 'direct',
    send: (conn, seq) => node.dispatcher.send(0, Kind.REQUEST, Format.TcpJson, conn, seq, PAYLOAD),
    flush: () => {},
    onTurn: (fn) => (turn = fn),
    conn: (deliver) => node.dispatcher.allocConn({ deliver: (seq) => deliver(seq), flushOut: () => turn() }),
  };
}

/** The origin side: a Dispatcher-like table of sinks fed by the PeerClient's output. */
function linkedPath(name: string, client: PeerClient, sinks: Map<number, (seq: number) => void>, turns: { fn: () => void }): Path {
  const link = client.target(partitionOf(QUEUE));
  let next = 1;
  return {
    name,
    send: (conn, seq) => link.add(Kind.REQUEST, Format.TcpJson, conn, seq, PAYLOAD),
    flush: () => link.flush(),
    onTurn: (fn) => (turns.fn = fn),
    conn: (deliver) => {
      const c = next++;
      sinks.set(c, deliver);
      return c;
    },
  };
}

/** n PUSH with up to WINDOW in flight; requests/s. */
function pipelined(path: Path, n: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let done = 0;
    const t0 = performance.now();
    const conn = path.conn(() => {
      done++;
      if (done === n) resolve((n * 1000) / (performance.now() - t0));
    });
    // the inline engine may answer inside send (a turn ends early past 64 KiB): no recursion
    let pumping = false;
    let again = false;
    const pump = (): void => {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      do {
        again = false;
        while (sent < n && sent - done < WINDOW) path.send(conn, ++sent);
        path.flush();
      } while (again);
      pumping = false;
    };
    path.onTurn(pump);
    pump();
  });
}

/** n PUSH one at a time; round-trip times in µs. */
function sequential(path: Path, n: number): Promise<number[]> {
  return new Promise((resolve) => {
    const times: number[] = [];
    let t = 0;
    let seq = 0;
    const conn = path.conn(() => {
      times.push((performance.now() - t) * 1000);
      if (times.length === n) resolve(times);
      else setImmediate(one);
    });
    const one = (): void => {
      t = performance.now();
      path.send(conn, ++seq);
      path.flush();
    };
    path.onTurn(() => {});
    one();
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function linked(node: TestNode, tls: LinkTls | null, clientTls: LinkTls | null, name: string): Promise<{ path: Path; close(): Promise<void> }> {
  const server = new LinkServer({ nodeId: 'owner', secret: SECRET, tls, local: node });
  const port = await server.listen(0, '127.0.0.1');
  const sinks = new Map<number, (seq: number) => void>();
  const turns = { fn: () => {} };
  const output: PeerOutput = {
    answer: (conn, seq) => sinks.get(conn)?.(seq),
    remoteEvent: () => {},
    turnDone: () => turns.fn(),
  };
  const client = new PeerClient({ nodeId: 'origin', peerId: 'owner', host: '127.0.0.1', port, secret: SECRET, tls: clientTls, output });
  client.start();
  const deadline = Date.now() + 10_000;
  while (!client.connected) {
    if (Date.now() > deadline) throw new Error(`${name}: the link did not come up`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    path: linkedPath(name, client, sinks, turns),
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

type Kind3 = 'direct' | 'link' | 'link+mTLS';

/** A fresh node per measurement (the pushed jobs stay in memory), and the path to it. */
async function setup(kind: Kind3, pki: NodePki): Promise<{ path: Path; close(): Promise<void> }> {
  const node = new TestNode();
  if (kind === 'direct') return { path: directPath(node), close: () => node.close() };
  const tls = kind === 'link' ? [null, null] : [{ ...pki.nodes[1]!, ca: pki.ca }, { ...pki.nodes[0]!, ca: pki.ca }];
  const l = await linked(node, tls[0]!, tls[1]!, kind);
  return {
    path: l.path,
    close: async () => {
      await l.close();
      await node.close();
    },
  };
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const pki = makeNodePki();
  const kinds: Kind3[] = ['direct', 'link', 'link+mTLS'];
  const paths = kinds.map((name) => ({ name }));
  const rate = new Map<string, number[]>(kinds.map((k) => [k, []]));
  const rtt = new Map<string, number[]>(kinds.map((k) => [k, []]));
  // a warm-up round, then rounds interleaved across the paths so load drifts hit them alike
  for (let r = -1; r < ROUNDS; r++) {
    for (const k of kinds) {
      const { path, close } = await setup(k, pki);
      const pushed = await pipelined(path, N);
      const times = await sequential(path, RTT_N);
      await close();
      if (r < 0) continue;
      rate.get(k)!.push(pushed);
      rtt.get(k)!.push(...times);
    }
  }
  pki.remove();
  const loadAfter = loadavg()[0]!;

  const direct = median(rate.get('direct')!);
  const rows = paths.map((p) => {
    const r = median(rate.get(p.name)!);
    const t = rtt.get(p.name)!;
    const cost = p.name === 'direct' ? '—' : `${((1e6 / r - 1e6 / direct)).toFixed(2)} µs`;
    const all = rate.get(p.name)!;
    return `| ${p.name} | ${fmt(r)} (${fmt(Math.min(...all))}–${fmt(Math.max(...all))}) | ${(r / direct).toFixed(2)} | ${cost} | ${median(t).toFixed(0)} µs | ${pct(t, 99).toFixed(0)} µs |`;
  });
  const body = [
    '## Cluster link (bench/cluster-link.ts)',
    '',
    `${machine()}; 1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (a shared machine: read the ratios). ` +
      `Command: \`npm run build && node dist/bench/cluster-link.js${quick ? ' --quick' : ''}\`.`,
    `One process: a node's Dispatcher with the inline engine (SHARDS=0, memory), asked directly or through a PeerClient → loopback → LinkServer → the same Dispatcher, ` +
      `both ends of the link on this thread (so the forwarded cost is the origin's and the owner's work together). ` +
      `PUSH of a ${PAYLOAD.length}-byte TCP-JSON request; pipelined: ${fmt(N)} requests with ${WINDOW} in flight, median of ${ROUNDS} rounds after a warm-up round, a fresh node each; ` +
      `round trip: ${fmt(RTT_N * ROUNDS)} sequential PUSH, one in flight (the next sent from setImmediate after the answer). CLUSTER_SECRET set (the HMAC runs once per connection, not per request).`,
    '',
    '| path | pipelined PUSH/s, median (min–max) | ratio to direct | added per request | round trip median | round trip p99 |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    'What a forwarded request does beyond a local one (from the code, src/cluster/link): origin: one in-flight slot in typed arrays, a set insert of ' +
      'its connection id, the payload copied into the turn buffer (one socket write per turn); owner: one map lookup of the origin connection, ' +
      'a Buffer view of the payload handed to the Dispatcher, the answer copied into the turn buffer; origin again: a slot lookup by index and a ' +
      'Buffer view of the answer. Two small objects per request, no per-request timer, promise or map entry.',
  ].join('\n');
  console.log(body);
  if (write) writeSection('cluster-link', body);
}

await main();
