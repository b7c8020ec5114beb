/**
 * `nodes`: a client given several nodes uses one at a time and moves on when a connect fails or the
 * connection drops (two independent servers stand in for two cluster nodes here: which one served
 * a request is visible in which one holds the job).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashqClient } from 'flashq-ts/client';
import { freePort, startServer, waitFor, type RunningServer } from '../helpers/server.js';

describe('client nodes', () => {
  let a: RunningServer;
  let b: RunningServer;
  before(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  const holds = async (s: RunningServer, id: number) => {
    const c = new FlashqClient({ port: s.port });
    try {
      return (await c.getState(id)) !== 'unknown';
    } finally {
      await c.close();
    }
  };

  test('the first connect skips a node that is down', async () => {
    const c = new FlashqClient({ nodes: [{ host: '127.0.0.1', port: await freePort() }, { host: '127.0.0.1', port: a.port }] });
    await c.connect();
    const id = await c.push('nodes-first', {});
    assert.equal(await holds(a, id), true);
    await c.close();
  });

  test('every node down: the connect fails naming them all', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const c = new FlashqClient({ nodes: [{ host: '127.0.0.1', port: p1 }, { host: '127.0.0.1', port: p2 }] });
    await assert.rejects(c.connect(), new RegExp(`cannot connect to 127\\.0\\.0\\.1:${p1}, 127\\.0\\.0\\.1:${p2}`));
    await c.close();
  });

  test('when its node goes away the client carries on with the next one', async () => {
    const c = new FlashqClient({ nodes: [{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }], reconnectInitialMs: 20 });
    let reconnected = false;
    c.connection.on('reconnect', () => (reconnected = true));
    await c.connect();
    const first = await c.push('nodes-move', { on: 'a' });
    assert.equal(await holds(a, first), true);
    await a.stop();
    await waitFor(() => reconnected, 10_000, 'reconnected');
    const second = await c.push('nodes-move', { on: 'b' });
    assert.equal(await holds(b, second), true);
    await c.close();
  });
});
