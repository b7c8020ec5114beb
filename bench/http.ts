/**
 * HTTP, WebSocket and SSE: single-push requests per second over keep-alive connections (wrk when it
 * is installed, else a node:http keep-alive generator), batch pulls over HTTP, and the cost of
 * event fan-out: TCP PUSHB throughput with and without 100 WebSocket subscribers on /ws.
 *
 * A scenario module for bench/run.ts (`make bench`), and runnable alone, writing the `http`
 * section of BENCHMARKS.md: node dist/bench/http.js [--quick] [--runs=N] [--pairs=N] [--no-write]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fmt, machine, median, writeSection } from '../native-bench/report.js';
import { DeliveryError } from './lib/delivery.js';
import { encode, isOk, payload, RawConn } from './lib/raw.js';
import type { Metric, Scenario, StepContext } from './lib/scenario.js';
import { startFlashq, type FlashqServer } from './lib/server.js';

const JOB_BYTES = 100;
const SUBSCRIBERS = 100;

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** `keepAlive` false for occasional calls: uWS drops connections idle for 10 s, and a reused one could be mid-close. */
function http(port: number, method: string, path: string, body?: string, keepAlive = true): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: keepAlive ? agent : false, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const totalPushed = async (port: number): Promise<number> =>
  (JSON.parse((await http(port, 'GET', '/metrics', undefined, false)).body.toString()) as { data: { total_pushed: number } }).data.total_pushed;

// ------------------------------------------------------------------ single pushes

const hasWrk = () => spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined;

const PUSH_BODY = JSON.stringify({ data: payload(JOB_BYTES) });

/** POST /queues/{q}/jobs for `seconds` over `conns` keep-alive connections; requests per second. */
async function pushRate(server: FlashqServer, seconds: number, conns: number): Promise<{ rps: number; tool: string }> {
  const queue = `hp.${process.pid}.${Date.now()}`;
  const before = await totalPushed(server.httpPort);
  let done: number;
  let rps: number;
  let tool: string;
  if (hasWrk()) {
    const dir = mkdtempSync(join(tmpdir(), 'flashq-wrk-'));
    const script = join(dir, 'push.lua');
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = '${PUSH_BODY}'\nwrk.headers["Content-Type"] = "application/json"\n`);
    tool = `wrk -t1 -c${conns} -d${seconds}s`;
    const r = spawnSync('wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '-s', script, `http://127.0.0.1:${server.httpPort}/queues/${queue}/jobs`], { encoding: 'utf8' });
    const m = /(\d+) requests in ([\d.]+)s/.exec(r.stdout);
    if (!m) throw new Error(`wrk: ${r.stdout}${r.stderr}`);
    if (/Non-2xx/.test(r.stdout)) throw new DeliveryError(`push: some answers were not 2xx:\n${r.stdout}`);
    done = Number(m[1]);
    rps = done / Number(m[2]);
  } else {
    tool = `node:http keep-alive generator, ${conns} connections`;
    const end = Date.now() + seconds * 1000;
    done = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: conns }, async () => {
        while (Date.now() < end) {
          const r = await http(server.httpPort, 'POST', `/queues/${queue}/jobs`, PUSH_BODY);
          if (r.status !== 200) throw new DeliveryError(`push answered ${r.status}`);
          done++;
        }
      }),
    );
    rps = (done / (Date.now() - t0)) * 1000;
  }
  const accepted = (await totalPushed(server.httpPort)) - before;
  // wrk stops with requests in flight: they may be accepted without being counted
  if (accepted < done || accepted > done + conns) throw new DeliveryError(`push: ${done} answered ok but ${accepted} accepted`);
  return { rps, tool };
}

// ------------------------------------------------------------------ TCP PUSHB

/** PUSHB of 1000 jobs over one raw TCP JSON connection, 4 in flight, for `seconds`; jobs per second. */
async function pushbRate(server: FlashqServer, seconds: number, queue: string): Promise<number> {
  const batch = encode('json', { cmd: 'PUSHB', queue, jobs: Array.from({ length: 1000 }, () => ({ data: payload(JOB_BYTES) })) });
  const before = await totalPushed(server.httpPort);
  let inFlight = 0;
  let answered = 0;
  let failed = 0;
  let stop = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));
  const conn = await RawConn.connect(server.port, 'json', (answers) => {
    for (const a of answers) {
      inFlight--;
      if (isOk('json', a)) answered++;
      else failed++;
    }
    if (!stop) while (inFlight < 4) send();
    else if (inFlight === 0) finish();
  });
  const send = () => {
    inFlight++;
    conn.write(batch);
  };
  const t0 = Date.now();
  while (inFlight < 4) send();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  await finished;
  const elapsed = Date.now() - t0;
  conn.close();
  if (failed > 0) throw new DeliveryError(`PUSHB: ${failed} batches refused`);
  const accepted = (await totalPushed(server.httpPort)) - before;
  if (accepted !== answered * 1000) throw new DeliveryError(`PUSHB: ${answered * 1000} answered, ${accepted} accepted`);
  return (answered * 1000 * 1000) / elapsed;
}

// ------------------------------------------------------------------ batch pulls over HTTP

/** Fill a queue over TCP, then drain it with GET ?count=1000 from 4 connections; jobs per second. */
async function pullRate(server: FlashqServer, jobs: number): Promise<number> {
  const queue = `hl.${process.pid}.${Date.now()}`;
  const batch = encode('json', { cmd: 'PUSHB', queue, jobs: Array.from({ length: 1000 }, () => ({ data: payload(JOB_BYTES) })) });
  await new Promise<void>((resolve, reject) => {
    let left = jobs / 1000;
    RawConn.connect(server.port, 'json', (answers) => {
      for (const a of answers) if (!isOk('json', a)) reject(new Error('fill refused'));
      left -= answers.length;
      if (left === 0) resolve();
    }).then((c) => {
      for (let i = 0; i < jobs / 1000; i++) c.write(batch);
    }, reject);
  });
  const seen = new Set<number>();
  const ID = Buffer.from('{"id":');
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const r = await http(server.httpPort, 'GET', `/queues/${queue}/jobs?count=1000`);
        if (r.status !== 200) throw new DeliveryError(`pull answered ${r.status}`);
        let n = 0;
        for (let i = r.body.indexOf(ID); i >= 0; i = r.body.indexOf(ID, i + 6)) {
          let id = 0;
          for (let k = i + 6, c = r.body[k]!; c >= 48 && c <= 57; c = r.body[++k]!) id = id * 10 + c - 48;
          if (seen.has(id)) throw new DeliveryError(`job ${id} pulled twice`);
          seen.add(id);
          n++;
        }
        if (n === 0) return;
      }
    }),
  );
  const elapsed = Date.now() - t0;
  if (seen.size !== jobs) throw new DeliveryError(`pulled ${seen.size} of ${jobs} jobs`);
  return (jobs * 1000) / elapsed;
}

// ------------------------------------------------------------------ WebSocket subscribers

interface SubsData {
  role: 'ws-subscribers';
  port: number;
  count: number;
  path: string;
}

/**
 * A bare WebSocket reader (upgrade, then frame headers only): the subscribers' own cost stays
 * small, so what slows PUSHB is the server's fan-out, not 100 clients parsing JSON.
 */
function wsReader(port: number, path: string, stats: { messages: number; open: number }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let head = true;
    let rest: Buffer | null = null;
    s.on('connect', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    s.on('error', reject);
    s.on('close', () => {
      if (!head) stats.open--;
    });
    s.on('data', (chunk: Buffer) => {
      let buf = rest ? Buffer.concat([rest, chunk]) : chunk;
      rest = null;
      if (head) {
        const e = buf.indexOf('\r\n\r\n');
        if (e < 0) return void (rest = buf);
        if (!buf.subarray(0, 12).toString().includes('101')) return reject(new Error(`upgrade refused: ${buf.toString().split('\r\n')[0]}`));
        head = false;
        stats.open++;
        resolve(s);
        buf = buf.subarray(e + 4);
      }
      let o = 0;
      while (buf.length - o >= 2) {
        const l7 = buf[o + 1]! & 0x7f;
        // server frames are unmasked: 7-bit length, or 16-bit (126), or 64-bit (127; < 4 GiB here)
        const h = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
        if (buf.length - o < h) break;
        const len = l7 === 126 ? buf.readUInt16BE(o + 2) : l7 === 127 ? buf.readUInt32BE(o + 6) : l7;
        if (buf.length - o < h + len) break;
        const op = buf[o]! & 0x0f;
        if (op === 1 || op === 2) stats.messages++;
        o += h + len;
      }
      if (o < buf.length) rest = Buffer.from(buf.subarray(o));
    });
  });
}

async function runSubscribers(d: SubsData): Promise<void> {
  const stats = { messages: 0, open: 0 };
  const socks = await Promise.all(Array.from({ length: d.count }, () => wsReader(d.port, d.path, stats)));
  parentPort!.on('message', (m: string) => {
    if (m === 'report') parentPort!.postMessage({ ...stats });
    if (m === 'stop') {
      for (const s of socks) s.destroy();
      parentPort!.postMessage({ ...stats });
      parentPort!.close();
    }
  });
  parentPort!.postMessage('ready');
}

if (!isMainThread && (workerData as SubsData | null)?.role === 'ws-subscribers') void runSubscribers(workerData as SubsData);

class Subscribers {
  private constructor(private readonly worker: Worker) {}

  static start(port: number, count: number, path = '/ws'): Promise<Subscribers> {
    const data: SubsData = { role: 'ws-subscribers', port, count, path };
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: data });
    return new Promise((resolve, reject) => {
      worker.once('message', (m) => (m === 'ready' ? resolve(new Subscribers(worker)) : reject(new Error(String(m)))));
      worker.once('error', reject);
    });
  }

  private ask(m: string): Promise<{ messages: number; open: number }> {
    return new Promise((resolve) => {
      this.worker.once('message', resolve);
      this.worker.postMessage(m);
    });
  }

  report = () => this.ask('report');
  stop = () => this.ask('stop').finally(() => void this.worker.terminate());
}

/**
 * TCP PUSHB on a fresh server without subscribers, then on another fresh server with 100 on `path`
 * (fresh servers: the second phase must not pay for the jobs the first one left in memory).
 */
export async function fanout(start: () => Promise<FlashqServer>, seconds: number, path = '/ws') {
  const q = `hf.${process.pid}.${Date.now()}`;
  let base: number;
  const a = await start();
  try {
    base = await pushbRate(a, seconds, q);
  } finally {
    await a.stop();
  }
  const b = await start();
  try {
    const subs = await Subscribers.start(b.httpPort, SUBSCRIBERS, path);
    const before = await subs.report();
    const t0 = Date.now();
    const withSubs = await pushbRate(b, seconds, q);
    const after = await subs.stop();
    const events = ((after.messages - before.messages) * 1000) / (Date.now() - t0);
    return { base, withSubs, slowdown: Math.max(0, (1 - withSubs / base) * 100), events, remaining: after.open };
  } finally {
    await b.stop();
  }
}

// ------------------------------------------------------------------ scenario + standalone
const m = (key: string, unit: string, value: number, better: Metric['better'] = 'higher'): Metric => ({ key, unit, value, better });
export const scenarios: Scenario[] = [
  {
    id: 'http',
    section: 'http',
    title: 'HTTP, WebSocket and SSE',
    system: 'flashQ',
    notes: `Single pushes: POST /queues/{q}/jobs with ~${JOB_BYTES} B of data over 64 keep-alive connections (wrk when installed). Batch pulls: GET /queues/{q}/jobs?count=1000 from 4 connections draining a filled queue. Fan-out: TCP PUSHB (1000 jobs, 4 in flight) alone, then with ${SUBSCRIBERS} WebSocket subscribers on /ws (bare frame readers in a worker thread); subscribers that fall 1 MiB behind are dropped by design.`,
    steps: ({ quick }) => {
      /** each step on its own server(s), stopped whatever happens */
      const onServer = async (ctx: StepContext, f: (s: FlashqServer) => Promise<Metric[]>) => {
        const s = await ctx.startFlashq({ GRPC_PORT: '0' });
        try {
          return await f(s);
        } finally {
          await s.stop();
        }
      };
      return [
        {
          id: 'push',
          label: 'single push over HTTP (req/s)',
          targets: [{ metric: 'throughput', op: '>=', value: 40_000 }],
          run: (ctx) => onServer(ctx, async (s) => [m('throughput', 'req/s', (await pushRate(s, quick ? 3 : 8, 64)).rps)]),
        },
        {
          id: 'pull',
          label: 'batch pulls over HTTP, count=1000 (jobs/s)',
          run: (ctx) => onServer(ctx, async (s) => [m('throughput', 'jobs/s', await pullRate(s, quick ? 100_000 : 300_000))]),
        },
        {
          id: 'fanout',
          label: `TCP PUSHB with ${SUBSCRIBERS} WS subscribers`,
          targets: [{ metric: 'slowdown', op: '<=', value: 10 }],
          async run(ctx) {
            const r = await fanout(() => ctx.startFlashq({ GRPC_PORT: '0' }), quick ? 2 : 4);
            return [
              m('throughput', 'jobs/s', r.withSubs),
              m('baseline', 'jobs/s', r.base),
              m('slowdown', '%', r.slowdown, 'lower'),
              m('events', 'msg/s', r.events),
              m('subscribers', 'left', r.remaining),
            ];
          },
        },
      ];
    },
  },
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? (quick ? 1 : 3));
  const pairs = Number(args.find((a) => a.startsWith('--pairs='))?.slice(8) ?? (quick ? 1 : 5));
  const push: number[] = [];
  const pull: number[] = [];
  let tool = '';
  for (let i = 0; i < runs; i++) {
    const s = await startFlashq({ GRPC_PORT: '0' });
    try {
      const p = await pushRate(s, quick ? 3 : 8, 64);
      push.push(p.rps);
      tool = p.tool;
      pull.push(await pullRate(s, quick ? 100_000 : 300_000));
    } finally {
      await s.stop();
    }
    process.stderr.write(`run ${i + 1}/${runs}: push ${fmt(push[i]!)} req/s, pull ${fmt(pull[i]!)} jobs/s\n`);
  }
  // the machine is shared and noisy: alternate baseline and fan-out on fresh servers, pair by pair
  const fan: Array<Awaited<ReturnType<typeof fanout>>> = [];
  for (let i = 0; i < pairs; i++) {
    fan.push(await fanout(() => startFlashq({ GRPC_PORT: '0' }), quick ? 2 : 4));
    const f = fan[i]!;
    process.stderr.write(`pair ${i + 1}/${pairs}: PUSHB ${fmt(f.base)} → ${fmt(f.withSubs)} jobs/s with subscribers, ${fmt(f.events)} msg/s delivered\n`);
  }
  const med = (xs: number[]) => fmt(median(xs));
  const body = [
    '## HTTP, WebSocket and SSE',
    '',
    `Machine: ${machine()}. Command: \`node dist/bench/http.js${args.length ? ' ' + args.join(' ') : ''}\` (medians: ${runs} run(s) of push/pull, ${pairs} baseline/fan-out pair(s)).`,
    '',
    scenarios[0]!.notes!,
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| single push, POST /queues/{q}/jobs (${tool}) | ${med(push)} req/s (runs: ${push.map(fmt).join(', ')}) | ≥ 40,000 |`,
    `| batch pulls, GET ?count=1000 | ${med(pull)} jobs/s | |`,
    `| TCP PUSHB alone | ${med(fan.map((f) => f.base))} jobs/s | |`,
    `| TCP PUSHB with ${SUBSCRIBERS} WS subscribers | ${med(fan.map((f) => f.withSubs))} jobs/s | |`,
    `| PUSHB slowdown, median of the pairs | ${median(fan.map((f) => f.slowdown)).toFixed(1)} % (pairs: ${fan.map((f) => f.slowdown.toFixed(0) + ' %').join(', ')}) | ≤ 10 % |`,
    `| events delivered to subscribers | ${med(fan.map((f) => f.events))} msg/s (all subscribers together) | |`,
    `| subscribers still connected at the end | ${fan.map((f) => f.remaining).join(', ')} of ${SUBSCRIBERS} | |`,
  ].join('\n');
  if (!args.includes('--no-write')) writeSection('http', body);
  process.stdout.write(body + '\n');
}

if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
