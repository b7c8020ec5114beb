import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import { failure, FlashqGrpc, grpc, json, streamStatus } from './client.js';

describe('with AUTH_TOKENS set', () => {
  let server: RunningServer;
  let anon: FlashqGrpc;
  let wrong: FlashqGrpc;
  let good: FlashqGrpc;

  before(async () => {
    server = await startServer({ HTTP_PORT: '0', AUTH_TOKENS: 'alpha,beta' });
    anon = new FlashqGrpc(server.grpcPort);
    wrong = new FlashqGrpc(server.grpcPort, 'gamma');
    good = new FlashqGrpc(server.grpcPort, 'beta');
  });

  after(async () => {
    for (const c of [anon, wrong, good]) c.close();
    await server.stop();
  });

  test('a call without the authorization metadata is UNAUTHENTICATED', async () => {
    const err = await failure(anon.call('push', { queue: 'a', data: json(1) }));
    assert.equal(err.code, grpc.status.UNAUTHENTICATED);
    assert.equal(err.details, 'Authentication required');
  });

  test('a wrong bearer token is UNAUTHENTICATED and changes nothing', async () => {
    const err = await failure(wrong.call('push', { queue: 'a', data: json(1) }));
    assert.equal(err.code, grpc.status.UNAUTHENTICATED);
    assert.equal(err.details, 'Authentication required: invalid token');
    assert.deepEqual(await good.call('stats', {}), { queued: 0, processing: 0, delayed: 0, dlq: 0 });
  });

  test('every RPC checks the token, streams included', async () => {
    for (const [method, req] of [
      ['pull', { queue: 'a' }],
      ['pullBatch', { queue: 'a', count: 1 }],
      ['ack', { id: 1 }],
      ['ackBatch', { ids: [1] }],
      ['fail', { id: 1 }],
      ['getState', { id: 1 }],
      ['stats', {}],
      ['pushBatch', { queue: 'a', jobs: [] }],
    ] as const) {
      const err = await failure(anon.call(method, req));
      assert.equal(err.code, grpc.status.UNAUTHENTICATED, method);
    }
    assert.equal((await streamStatus(anon.streamJobs({ queue: 'a' }))).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await streamStatus(wrong.processJobs({ metadata: { queue: 'a' } }))).code, grpc.status.UNAUTHENTICATED);
  });

  test('a valid token works on every surface of the service', async () => {
    const { id } = await good.call('push', { queue: 'a', data: json(1) });
    const job = await good.call('pull', { queue: 'a' });
    assert.equal(job.id, id);
    assert.deepEqual(await good.call('ack', { id }), { ok: true });
  });
});

describe('without AUTH_TOKENS', () => {
  let server: RunningServer;
  let anon: FlashqGrpc;

  before(async () => {
    server = await startServer({ HTTP_PORT: '0' });
    anon = new FlashqGrpc(server.grpcPort);
  });

  after(async () => {
    anon.close();
    await server.stop();
  });

  test('calls need no metadata, and a stray token is ignored', async () => {
    assert.equal((await anon.call('push', { queue: 'a', data: json(1) })).ok, true);
    assert.equal((await anon.call('stats', {}, { token: 'whatever' })).queued, 1);
  });
});
