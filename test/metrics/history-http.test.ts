/**
 * GET /metrics/history on a running server carries the reference server's names with the values
 * of real work: completed and failed counted, throughput and latency_ms of the interval.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { WireClient } from '../helpers/wire.js';
import { Api } from '../http/client.js';

interface Point {
  timestamp: number;
  total_completed: number;
  total_failed: number;
  jobs_per_second: number;
  avg_latency_ms: number;
  completed: number;
  failed: number;
  throughput: number;
  latency_ms: number;
}

describe('GET /metrics/history after real work', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  test('completed, failed, throughput and latency_ms count the jobs done through TCP', async () => {
    const api = new Api(server.httpPort);
    // rates compare a sample with the one before: let the first (baseline) sample be taken
    await waitFor(async () => ((await api.get('/metrics/history')).data as Point[]).length > 0, 15_000, 'a baseline sample');
    const c = await WireClient.open(server.port);
    const pushed = await c.call({ cmd: 'PUSHB', queue: 'hist', jobs: Array.from({ length: 50 }, (_, i) => ({ data: i })) });
    assert.equal(pushed.ids.length, 50);
    const got = await c.call({ cmd: 'PULLB', queue: 'hist', count: 50 });
    const ids = got.jobs.map((j: { id: number }) => j.id) as number[];
    assert.equal((await c.call({ cmd: 'ACKB', ids: ids.slice(0, 47) })).ok, true);
    for (const id of ids.slice(47)) await c.call({ cmd: 'FAIL', id, error: 'x' });
    await c.close();

    // the first sample after the work: its interval holds the 47 completions
    const p = (await waitFor(async () => {
      const points = (await api.get('/metrics/history')).data as Point[];
      return points.find((x) => x.completed === 47 && x.throughput > 0) ?? null;
    }, 15_000, 'a history sample of the work'))!;
    assert.equal(p.failed, 3);
    assert.ok(p.latency_ms > 0, `latency_ms ${p.latency_ms}`);
    assert.deepEqual([p.completed, p.failed, p.throughput, p.latency_ms], [p.total_completed, p.total_failed, p.jobs_per_second, p.avg_latency_ms]);
    // throughput is completions per second over the 5 s interval of the sample
    assert.ok(p.throughput <= 47 && p.throughput >= 47 / 10, `throughput ${p.throughput}`);
  });
});
