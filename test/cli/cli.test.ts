/**
 * Every flashq-ts command against a real server, checked against what the server says through the
 * client (an independent path): --json for the values, and the plain output for its shape.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlashqClient, type CronInfo, type Job, type JobEvent, type QueueInfo } from 'flashq-ts/client';
import { freePort, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { makeCert, tlsTerminator } from '../helpers/tls.js';
import { CLI, cli, cliJson } from './helpers.js';

describe('flashq-ts CLI', () => {
  let server: RunningServer;
  let client: FlashqClient;
  let at: string[];
  let socketPath: string;
  const dir = mkdtempSync(join(tmpdir(), 'flashq-cli-'));
  before(async () => {
    socketPath = join(dir, 'flashq.sock');
    server = await startServer({ UNIX_SOCKET: socketPath, AUTH_TOKENS: 'tok' });
    at = ['--port', String(server.port), '--http-port', String(server.httpPort), '--token', 'tok'];
    client = new FlashqClient({ port: server.port, token: 'tok' });
    await client.connect();
  });
  after(async () => {
    await client.close();
    await server.stop();
  });

  test('serve starts a server that answers, and stops on SIGTERM with exit 0', async () => {
    const [port, httpPort] = [await freePort(), await freePort()];
    const proc = spawn(process.execPath, [CLI, 'serve', `--port=${port}`, `--http-port=${httpPort}`, '--grpc-port=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d));
    proc.stderr.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    try {
      await waitFor(() => out.includes('"msg":"listening"'), 15_000, 'serve listening');
      const s = await cliJson<{ queued: number }>(['stats', '--port', String(port)]);
      assert.equal(s.queued, 0);
    } finally {
      proc.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  test('push: one job with options, N copies, and a file of jobs; the server holds them', async () => {
    const one = await cliJson<{ ids: number[] }>(['push', 'cli-push', '{"to":"a"}', '--priority', '7', '--max-attempts', '3', '--tags', 'x,y', ...at]);
    assert.equal(one.ids.length, 1);
    const { job } = await client.getJob(one.ids[0]!);
    assert.deepEqual(job?.data, { to: 'a' });
    assert.equal(job?.priority, 7);
    assert.equal(job?.max_attempts, 3);
    assert.deepEqual(job?.tags, ['x', 'y']);
    const many = await cliJson<{ ids: number[] }>(['push', 'cli-push', '{"n":1}', '--count', '2500', '--batch', '1000', ...at]);
    assert.equal(new Set(many.ids).size, 2500);
    const file = join(dir, 'jobs.ndjson');
    writeFileSync(file, '{"line":1}\n\n{"line":2}\n"text"\n');
    const fromFile = await cliJson<{ ids: number[] }>(['push', 'cli-push', '--file', file, ...at]);
    assert.deepEqual(await Promise.all(fromFile.ids.map(async (id) => (await client.getJob(id)).job?.data)), [{ line: 1 }, { line: 2 }, 'text']);
    const plain = await cli(['push', 'cli-push', '{}', ...at]);
    assert.match(plain.stdout, /^pushed job \d+ to cli-push\n$/);
    const q = (await client.listQueues()).find((x) => x.name === 'cli-push');
    assert.equal(q?.pending, 1 + 2500 + 3 + 1);
  });

  test('push refuses bad input with exit 2 and a clear message, and a refused push with exit 1', async () => {
    const bad = await cli(['push', 'cli-bad', '{"unclosed"', ...at]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /data is not valid JSON/);
    const refused = await cli(['push', 'bad queue!', '{}', ...at]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Invalid queue name/);
    const noAuth = await cli(['stats', '--port', String(server.port)]);
    assert.equal(noAuth.code, 1);
    assert.match(noAuth.stderr, /Authentication required/);
    const down = await cli(['stats', '--port', String(await freePort())]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot connect/);
  });

  test('pull acknowledges what it takes, or fails it with --fail', async () => {
    const ids = await client.pushBatch('cli-pull', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    const got = await cliJson<Job[]>(['pull', 'cli-pull', '--count', '2', ...at]);
    assert.deepEqual(got.map((j) => j.id), ids.slice(0, 2));
    for (const id of ids.slice(0, 2)) assert.equal(await client.getState(id), 'completed');
    const failed = await cliJson<Job[]>(['pull', 'cli-pull', '--fail', 'bad data', ...at]);
    assert.deepEqual(failed.map((j) => j.id), [ids[2]]);
    assert.equal(await client.getState(ids[2]!), 'failed');
    const empty = await cli(['pull', 'cli-pull', ...at]);
    assert.equal(empty.stdout, 'no job ready in cli-pull\n');
  });

  test('dlq lists dead-lettered jobs and retry sends them back', async () => {
    const id = await client.push('cli-dlq', { x: 1 });
    await client.pull('cli-dlq', { timeout: 1000 });
    await client.fail(id, 'nope');
    assert.deepEqual((await cliJson<Job[]>(['dlq', 'cli-dlq', ...at])).map((j) => j.id), [id]);
    const table = await cli(['dlq', 'cli-dlq', ...at]);
    assert.match(table.stdout, /^ *id +queue +pri +attempts +created +data\n/);
    assert.match(table.stdout, new RegExp(`${id} +cli-dlq`));
    assert.deepEqual(await cliJson(['retry', 'cli-dlq', ...at]), { queue: 'cli-dlq', retried: 1 });
    assert.equal(await client.getState(id), 'waiting');
    assert.deepEqual(await cliJson(['retry', 'cli-dlq', String(id), ...at]), { queue: 'cli-dlq', retried: 0 });
  });

  test('stats and queues report what the server reports', async () => {
    await client.pushBatch('cli-stats', [{ data: 1 }, { data: 2 }]);
    const s = await cliJson<{ queued: number; metrics: { total_pushed: number } }>(['stats', ...at]);
    const direct = await client.stats();
    assert.equal(s.queued, direct.queued);
    assert.equal(s.metrics.total_pushed, (await client.metrics()).total_pushed);
    const text = await cli(['stats', ...at]);
    assert.match(text.stdout, new RegExp(`queued +${direct.queued}\n`));
    assert.deepEqual(await cliJson<QueueInfo[]>(['queues', ...at]), await client.listQueues());
    const table = await cli(['queues', ...at]);
    assert.match(table.stdout, /^queue +pending +active +dlq +paused +rate limit +concurrency\n/);
    assert.match(table.stdout, /cli-stats +2 +0 +0 +no/);
  });

  test('queues pause, resume and drain change the queue', async () => {
    await client.pushBatch('cli-q', [{ data: 1 }, { data: 2 }, { data: 3, delay: 60_000 }]);
    await cliJson(['queues', 'pause', 'cli-q', ...at]);
    assert.equal((await client.listQueues()).find((q) => q.name === 'cli-q')?.paused, true);
    await cliJson(['queues', 'resume', 'cli-q', ...at]);
    assert.equal((await client.listQueues()).find((q) => q.name === 'cli-q')?.paused, false);
    assert.deepEqual(await cliJson(['queues', 'drain', 'cli-q', ...at]), { queue: 'cli-q', removed: 3 });
    assert.equal((await client.listQueues()).find((q) => q.name === 'cli-q')?.pending ?? 0, 0);
  });

  test('jobs browses by queue and state, and shows one job with its result', async () => {
    const [a, b] = await client.pushBatch('cli-jobs', [{ data: { n: 1 } }, { data: { n: 2 }, delay: 60_000 }]);
    const list = await cliJson<(Job & { state: string })[]>(['jobs', '--queue', 'cli-jobs', ...at]);
    assert.deepEqual(list.map((j) => [j.id, j.state]), [[b, 'delayed'], [a, 'waiting']]);
    const delayed = await cliJson<Job[]>(['jobs', '--queue', 'cli-jobs', '--state', 'delayed', ...at]);
    assert.deepEqual(delayed.map((j) => j.id), [b]);
    const everywhere = await cliJson<Job[]>(['jobs', '--limit', '1000', ...at]);
    assert.ok(everywhere.some((j) => j.id === a));
    const job = await client.pull('cli-jobs', { timeout: 1000 });
    await client.ack(job!.id, { sent: true });
    assert.equal(job?.id, a);
    const one = await cliJson<{ job: Job | null; state: string; result: unknown }>(['jobs', String(a), ...at]);
    assert.deepEqual(one, { job: (await client.getJob(a!)).job, state: 'completed', result: { sent: true } });
    const shown = await cli(['jobs', String(a), ...at]);
    assert.match(shown.stdout, /state +completed/);
    assert.match(shown.stdout, /result +\{"sent":true\}/);
  });

  test('cron add, list and rm', async () => {
    await cliJson(['cron', 'add', 'cli-every', '*/5 * * * * *', '--queue', 'cli-cron', '--data', '{"tick":1}', '--priority', '2', ...at]);
    const listed = await cliJson<CronInfo[]>(['cron', ...at]);
    const mine = listed.find((c) => c.name === 'cli-every');
    assert.deepEqual(mine && { schedule: mine.schedule, queue: mine.queue, data: mine.data, priority: mine.priority }, { schedule: '*/5 * * * * *', queue: 'cli-cron', data: { tick: 1 }, priority: 2 });
    assert.deepEqual(await client.cronList(), listed);
    const bad = await cli(['cron', 'add', 'x', 'not a schedule', '--queue', 'q', ...at]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid cron expression/);
    await cliJson(['cron', 'rm', 'cli-every', ...at]);
    assert.equal((await client.cronList()).some((c) => c.name === 'cli-every'), false);
    // the reference SDK's interval shorthand: every 10 s, the first run 10 s from now
    const before = Date.now();
    await cliJson(['cron', 'add', 'cli-interval', '*/10', '--queue', 'cli-cron', ...at]);
    const interval = (await client.cronList()).find((c) => c.name === 'cli-interval');
    assert.equal(interval?.schedule, '*/10');
    assert.ok(interval!.next_run >= before + 10_000 && interval!.next_run <= Date.now() + 10_000, `next run ${interval!.next_run - before} ms ahead`);
    assert.match((await cli(['cron', ...at])).stdout, /cli-interval +\*\/10 +cli-cron /);
    await cliJson(['cron', 'rm', 'cli-interval', ...at]);
  });

  test('tail prints the live events of a queue (--json, stops after --limit)', async () => {
    const proc = spawn(process.execPath, [CLI, 'tail', 'cli-tail', '--json', '--limit', '3', '--events', 'pushed', ...at], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d));
    proc.stderr.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    await waitFor(() => err.includes('following cli-tail'), 10_000, 'tail connected');
    // its subscription reaches the shards asynchronously: push until the first event shows
    const ids: number[] = [];
    await waitFor(async () => {
      ids.push(await client.push('cli-tail', { i: ids.length }));
      return out.length > 0;
    }, 5000, 'first event');
    while (ids.length < 6) ids.push(await client.push('cli-tail', { i: ids.length }));
    assert.equal(await exited, 0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as JobEvent);
    assert.equal(events.length, 3);
    assert.ok(events.every((e) => e.event_type === 'job.pushed' && e.queue === 'cli-tail' && ids.includes(e.job_id)));
  });

  test('bench pushes, pulls and acks every job exactly once and writes its JSON', async () => {
    const out = join(dir, 'bench.json');
    const r = await cli(['bench', '--jobs', '3000', '--batch', '200', '--connections', '2', '--in-flight', '2', '--samples', '50', '--payload', '64', '--out', out, ...at], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /push \(PUSHB ×200\) +3000 /);
    assert.match(r.stdout, /every job delivered exactly once: yes/);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { flashq: { push: { jobs: number; jobsPerSecond: number; p99: number }; pullAck: { jobs: number }; exactlyOnce: boolean }; options: { payload: number } };
    assert.equal(report.flashq.push.jobs, 3000);
    assert.equal(report.flashq.pullAck.jobs, 3000);
    assert.equal(report.flashq.exactlyOnce, true);
    assert.ok(report.flashq.push.jobsPerSecond > 0 && report.flashq.push.p99 > 0);
    assert.equal(report.options.payload, 64);
  });

  test('bench --redis says clearly when BullMQ cannot run', async () => {
    const r = await cli(['bench', '--jobs', '200', '--samples', '5', '--redis', `redis://127.0.0.1:${await freePort()}`, ...at], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /BullMQ comparison skipped: (cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+|--redis needs the (bullmq|ioredis) package)/);
  });

  test('bench --redis runs the same load on BullMQ beside it, exactly once too', { skip: existsSync('/usr/bin/redis-server') ? false : 'redis-server is not installed' }, async () => {
    const port = await freePort();
    const redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      const out = join(dir, 'bench-bullmq.json');
      await waitFor(async () => (await cli(['bench', '--jobs', '1000', '--samples', '20', '--redis', `redis://127.0.0.1:${port}`, '--out', out, ...at], { timeoutMs: 120_000 })).stdout.includes('BullMQ '), 30_000, 'bench beside BullMQ');
      const report = JSON.parse(readFileSync(out, 'utf8')) as { bullmq: { push: { jobs: number }; process: { jobs: number }; exactlyOnce: boolean } | null; bullmqSkipped: string | null };
      assert.equal(report.bullmqSkipped, null);
      assert.equal(report.bullmq?.push.jobs, 1000);
      assert.equal(report.bullmq?.process.jobs, 1000);
      assert.equal(report.bullmq?.exactlyOnce, true);
    } finally {
      redis.kill();
    }
  });

  test('--nodes: a node that is down is skipped; a malformed list is a usage error', async () => {
    const s = await cliJson<{ queued: number }>(['stats', '--nodes', `127.0.0.1:${await freePort()},127.0.0.1:${server.port}`, '--token', 'tok']);
    assert.equal(s.queued, (await client.stats()).queued);
    const bad = await cli(['stats', '--nodes', 'nohostport']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--nodes takes host:port/);
  });

  test('connection flags: --socket (a Unix socket) and --tls with --ca through a TLS terminator', async () => {
    const viaSocket = await cliJson<{ ids: number[] }>(['push', 'cli-conn', '{"via":"socket"}', '--socket', socketPath, '--token', 'tok']);
    assert.deepEqual((await client.getJob(viaSocket.ids[0]!)).job?.data, { via: 'socket' });
    const cert = makeCert();
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, cert.cert);
    const term = await tlsTerminator(cert, server.port);
    try {
      const viaTls = await cliJson<{ ids: number[] }>(['push', 'cli-conn', '{"via":"tls"}', '--tls', '--ca', caFile, '--port', String(term.port), '--token', 'tok']);
      assert.deepEqual((await client.getJob(viaTls.ids[0]!)).job?.data, { via: 'tls' });
      assert.ok(term.accepted >= 1);
      const untrusted = await cli(['stats', '--tls', '--port', String(term.port), '--token', 'tok']);
      assert.equal(untrusted.code, 1);
      assert.match(untrusted.stderr, /certificate/);
    } finally {
      await term.close();
    }
  });

  test('help and unknown commands', async () => {
    const h = await cli(['--help']);
    assert.equal(h.code, 0);
    for (const c of ['serve', 'push', 'pull', 'stats', 'queues', 'jobs', 'dlq', 'retry', 'cron', 'tail', 'bench']) assert.match(h.stdout, new RegExp(`^  ${c} `, 'm'));
    assert.equal((await cli(['frobnicate'])).code, 2);
    const usage = await cli(['push', '--help']);
    assert.match(usage.stdout, /^usage: flashq-ts push <queue>/);
  });
});
