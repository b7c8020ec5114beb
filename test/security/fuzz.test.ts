import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { unpack } from 'msgpackr';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { prng } from '../helpers/prng.js';
import { WireClient } from '../helpers/wire.js';
import { Hostile } from './fuzz-inputs.js';

/**
 * The fuzz suite: ≥ 10,000 generated hostile inputs per run over TCP JSON lines, TCP MessagePack
 * and HTTP (FUZZ_SEED replays a run). Every input must be answered with an error (or an ok) or
 * end in a clean close; afterwards the server answers, the jobs pushed before are intact, no HTTP
 * answer was a 500, nothing was logged as an internal error, and RSS grew within a bound.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const JSON_CONNS = 10;
const JSON_LINES = 500;
const MP_CONNS = 10;
const MP_FRAMES = 300;
const HTTP_REQUESTS = 2000;
const RAW_HTTP = 200;

let server: RunningServer;
let keeper: WireClient;
const kept: Array<{ id: number; data: unknown }> = [];
let rssBefore = 0;
const counted = { json: 0, msgpack: 0, http: 0, raw: 0 };

function rss(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]) * 1024;
}

before(async () => {
  server = await startServer({ SHARDS: '2', IDLE_TIMEOUT_MS: '5000' });
  keeper = await WireClient.open(server.port);
  for (let i = 0; i < 100; i++) {
    const data = { n: i, text: `kept ${i}`, nested: { list: [i, i * 2] } };
    const a = await keeper.call({ cmd: 'PUSH', queue: 'fuzz-keep', data, priority: i % 7 });
    assert.equal(a.ok, true);
    kept.push({ id: a.id as number, data });
  }
  rssBefore = rss();
});

after(async () => {
  await keeper?.close();
  await server?.stop();
});

/** Answers read off one socket: JSON lines or MessagePack frames. */
function reader(sock: net.Socket, framing: 'json' | 'msgpack'): { answers: unknown[]; closed: Promise<void> } {
  const answers: unknown[] = [];
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    for (;;) {
      if (framing === 'json') {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) break;
        answers.push(envelope(buf.toString('utf8', 0, nl)));
        buf = buf.subarray(nl + 1);
      } else {
        if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) break;
        const len = buf.readUInt32BE(0);
        answers.push(unpackShallow(buf.subarray(4, 4 + len)));
        buf = buf.subarray(4 + len);
      }
    }
  });
  sock.on('error', () => {});
  return { answers, closed: new Promise((r) => sock.once('close', () => r())) };
}

/**
 * An answer's ok/error without parsing what it carries: JOBS and DLQ answers may hold the
 * 20,000-deep data a fuzz PUSH stored, deeper than the test's own JSON.parse can go.
 */
function envelope(line: string): { ok: boolean; error?: string; reqId?: string } | string {
  const m = /^\{"ok":(true|false)/.exec(line);
  if (!m) return line;
  const r = /^\{"ok":(?:true|false),"reqId":"([^"]*)"/.exec(line);
  if (m[1] === 'true') return { ok: true, ...(r ? { reqId: r[1] } : {}) };
  const e = /"error":("(?:[^"\\]|\\.)*")/.exec(line);
  return { ok: false, ...(e ? { error: JSON.parse(e[1]!) as string } : {}) };
}

function unpackShallow(body: Buffer): unknown {
  try {
    const v = unpack(body) as { ok?: unknown; error?: unknown };
    return { ok: v.ok, ...(typeof v.error === 'string' ? { error: v.error } : {}) };
  } catch (e) {
    // too deep for this process's stack: an ok answer carrying stored fuzz data
    if (e instanceof RangeError) return { ok: true };
    throw e;
  }
}

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(server.port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function checkAnswer(a: unknown, where: string): void {
  assert.equal(typeof a, 'object', where);
  const o = a as { ok?: unknown; error?: unknown };
  assert.equal(typeof o.ok, 'boolean', `${where}: ${JSON.stringify(a).slice(0, 200)}`);
  if (o.ok === false) {
    assert.equal(typeof o.error, 'string', where);
    assert.doesNotMatch(o.error as string, /^Internal error/, where);
  }
}

test('TCP JSON lines: every hostile line is answered, the connection stays usable', { timeout: 120_000 }, async () => {
  const h = new Hostile(prng(SEED));
  await Promise.all(
    Array.from({ length: JSON_CONNS }, async (_, c) => {
      const sock = await connect();
      const r = reader(sock, 'json');
      // the first byte fixes the framing: start with a real JSON line
      const lines: Buffer[] = [Buffer.from('{"cmd":"STATS"}')];
      for (let i = 0; i < JSON_LINES; i++) lines.push(h.jsonLine());
      if (c < 3) lines.push(Buffer.alloc(1_200_000, 0x61)); // oversized lines
      lines.push(Buffer.from('{"cmd":"STATS","reqId":"last"}'));
      for (const l of lines) sock.write(Buffer.concat([l, Buffer.from('\n')]));
      counted.json += lines.length;
      await waitFor(() => r.answers.length >= lines.length, 90_000, `answers on JSON connection ${c} (${r.answers.length}/${lines.length})`);
      assert.equal(r.answers.length, lines.length, 'one answer per line, no more');
      r.answers.forEach((a, i) => checkAnswer(a, `json conn ${c} line ${i}`));
      assert.equal((r.answers[r.answers.length - 1] as { reqId?: string }).reqId, 'last', 'answers in request order');
      sock.end();
      await r.closed;
    }),
  );
});

test('TCP MessagePack: hostile frames are answered; lying and oversized prefixes end in a clean close', { timeout: 120_000 }, async () => {
  const h = new Hostile(prng(SEED + 1));
  await Promise.all(
    Array.from({ length: MP_CONNS }, async (_, c) => {
      const sock = await connect();
      const r = reader(sock, 'msgpack');
      const frames = Array.from({ length: MP_FRAMES }, () => h.msgpackFrame());
      const ending = h.msgpackEnding();
      sock.write(Buffer.concat(frames));
      counted.msgpack += frames.length + (ending.length > 0 ? 1 : 0);
      await waitFor(() => r.answers.length >= frames.length, 90_000, `answers on MessagePack connection ${c}`);
      if (ending.length > 0) sock.write(ending);
      sock.end();
      await r.closed;
      // an oversized prefix gets its own error before the close
      assert.ok(r.answers.length === frames.length || r.answers.length === frames.length + 1, `${r.answers.length} answers`);
      r.answers.forEach((a, i) => checkAnswer(a, `msgpack conn ${c} frame ${i}`));
    }),
  );
});

test('HTTP: hostile routes and bodies never get a 500; malformed requests are refused or closed', { timeout: 120_000 }, async () => {
  const h = new Hostile(prng(SEED + 2));
  const base = `http://127.0.0.1:${server.httpPort}`;
  const statuses = new Map<number, number>();
  let closedHttp = 0;
  let next = 0;
  const worker = async () => {
    while (next < HTTP_REQUESTS) {
      next++;
      const req = h.http();
      let res: Response;
      try {
        res = await fetch(base + req.path, { method: req.method, headers: req.headers, ...(req.body !== undefined ? { body: req.body } : {}) });
      } catch {
        // closed without an answer: allowed for hostile input, counted
        closedHttp++;
        counted.http++;
        continue;
      }
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.notEqual(res.status, 500, `${req.method} ${req.path}: ${text.slice(0, 200)}`);
      assert.ok(res.status < 500 || res.status === 503, `${req.method} ${req.path} → ${res.status}`);
      if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) assert.ok(typeof envelope(text) === 'object', text.slice(0, 200));
      counted.http++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  assert.ok(closedHttp < HTTP_REQUESTS / 10, `${closedHttp} requests closed without an answer`);

  const raw = [
    'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'POST /queues/fz/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}',
    'GET /stats HTTP/9.9\r\n\r\n',
    'GET\u0000/stats HTTP/1.1\r\n\r\n',
    'GET /stats HTTP/1.1\r\nHost: x\r\nX: \u0000\u0001\r\n\r\n',
    `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /stats HTTP/1.1\r\n${'X-A: b\r\n'.repeat(5000)}\r\n`,
    'POST /queues/fz/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    'POST /queues/fz/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}',
    '\r\n\r\n\r\n',
  ];
  const r = new Hostile(prng(SEED + 3));
  let sent = 0;
  const rawOne = async (payload: Buffer) => {
    const s = net.connect(server.httpPort, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => {});
    await new Promise((res) => s.once('connect', res));
    s.end(payload);
    await new Promise((res) => s.once('close', res));
    assert.doesNotMatch(got, /^HTTP\/1\.[01] 500/, payload.toString('latin1').slice(0, 80));
    counted.raw++;
  };
  const rawWorker = async () => {
    while (sent < RAW_HTTP) {
      const i = sent++;
      await rawOne(i < raw.length ? Buffer.from(raw[i]!, 'latin1') : Buffer.concat([Buffer.from(r.pick(['GET ', 'POST ', 'BREW ', ''])), r.bytes(1 + r.int(400)), Buffer.from('\r\n\r\n')]));
    }
  };
  await Promise.all(Array.from({ length: 8 }, rawWorker));
});

test('afterwards: the server answers, the jobs pushed before are intact, memory stayed bounded', async () => {
  const total = counted.json + counted.msgpack + counted.http + counted.raw;
  assert.ok(total >= 10_000, `${total} hostile inputs (${JSON.stringify(counted)})`);
  assert.equal((await keeper.call({ cmd: 'STATS' })).ok, true);
  for (const k of kept) {
    const a = await keeper.call({ cmd: 'GETJOB', id: k.id });
    assert.equal(a.ok, true, `job ${k.id}`);
    const job = a.job as { data: unknown; state?: string; queue: string };
    assert.deepEqual([job.queue, job.data], ['fuzz-keep', k.data]);
    assert.equal((await keeper.call({ cmd: 'GETSTATE', id: k.id })).state, 'waiting');
  }
  const health = await fetch(`http://127.0.0.1:${server.httpPort}/health`);
  assert.equal(health.status, 200);
  const grown = rss() - rssBefore;
  assert.ok(grown < 256 * 1024 * 1024, `RSS grew ${(grown / 1048576).toFixed(0)} MiB`);
  assert.doesNotMatch(server.output(), /"level":"error"|Internal error/);
  assert.equal(server.proc.exitCode, null, 'the server is still running');
});
