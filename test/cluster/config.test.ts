import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { ConfigError, defaultNodeId, loadConfig } from '../../src/config.js';
import { MAIN } from '../helpers/server.js';

const DB = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' };

test('cluster settings default: lease TTL 10 s, internal port = TCP port + 3, no secret', () => {
  const c = loadConfig({ PORT: '7000' });
  assert.equal(c.clusterMode, false);
  assert.equal(c.leaseTtlMs, 10_000);
  assert.equal(c.clusterPort, 7003);
  assert.equal(c.clusterSecret, null);
  assert.equal(loadConfig({}).clusterPort, 6792);
});

test('CLUSTER_MODE=1 without DATABASE_URL refuses to start, naming what is missing', () => {
  assert.throws(() => loadConfig({ CLUSTER_MODE: '1' }), (e: unknown) => e instanceof ConfigError && /CLUSTER_MODE=1 requires DATABASE_URL/.test(e.message));
  assert.equal(loadConfig({ CLUSTER_MODE: '1', ...DB }).clusterMode, true);
});

test('CLUSTER_SECRET is required with AUTH_TOKENS in cluster mode, and must not be short', () => {
  assert.throws(() => loadConfig({ CLUSTER_MODE: '1', AUTH_TOKENS: 'tok', ...DB }), /CLUSTER_SECRET is required/);
  assert.throws(() => loadConfig({ CLUSTER_MODE: '1', AUTH_TOKENS: 'tok', CLUSTER_SECRET: 'short', ...DB }), /at least 16/);
  const c = loadConfig({ CLUSTER_MODE: '1', AUTH_TOKENS: 'tok', CLUSTER_SECRET: 'a-long-enough-secret', ...DB });
  assert.equal(c.clusterSecret, 'a-long-enough-secret');
  assert.equal(loadConfig({ AUTH_TOKENS: 'tok' }).clusterSecret, null, 'a single node needs no secret');
});

test('CLUSTER_PORT and LEASE_TTL_MS are validated', () => {
  assert.equal(loadConfig({ CLUSTER_PORT: '9999' }).clusterPort, 9999);
  assert.throws(() => loadConfig({ CLUSTER_PORT: '70000' }), /CLUSTER_PORT must be an integer in 1..65535/);
  assert.throws(() => loadConfig({ CLUSTER_PORT: 'x' }), /CLUSTER_PORT/);
  assert.throws(() => loadConfig({ CLUSTER_MODE: '1', PORT: '7000', HTTP_PORT: '7003', ...DB }), /CLUSTER_PORT 7003 is already HTTP_PORT/);
  assert.throws(() => loadConfig({ CLUSTER_MODE: '1', PORT: '0', ...DB }), /needs CLUSTER_PORT/);
  assert.equal(loadConfig({ CLUSTER_MODE: '1', PORT: '0', CLUSTER_PORT: '7100', ...DB }).clusterPort, 7100);
  assert.equal(loadConfig({ LEASE_TTL_MS: '1500' }).leaseTtlMs, 1500);
  assert.throws(() => loadConfig({ LEASE_TTL_MS: '50' }), /LEASE_TTL_MS must be an integer in 100..600000/);
  assert.throws(() => loadConfig({ LEASE_TTL_MS: '1.5' }), /LEASE_TTL_MS/);
});

test('NODE_ID defaults to an id stable per host and ports, distinct across them', () => {
  const a = loadConfig({ PORT: '7000' }).nodeId;
  assert.equal(loadConfig({ PORT: '7000' }).nodeId, a, 'the same on every start');
  assert.match(a, /^node-[0-9a-f]{12}$/);
  assert.notEqual(loadConfig({ PORT: '7010' }).nodeId, a);
  assert.notEqual(loadConfig({ PORT: '7000', NODE_HOST: '10.0.0.2' }).nodeId, a);
  assert.notEqual(defaultNodeId('127.0.0.1', [7000], 'host-a'), defaultNodeId('127.0.0.1', [7000], 'host-b'));
  assert.equal(loadConfig({ NODE_ID: 'n1' }).nodeId, 'n1');
  assert.throws(() => loadConfig({ NODE_ID: 'has space' }), /NODE_ID must be/);
});

test('the server exits with the configuration error when CLUSTER_MODE=1 lacks DATABASE_URL', async () => {
  const env = { ...process.env, CLUSTER_MODE: '1', DATABASE_URL: '', PORT: '0', HTTP_PORT: '0', GRPC_PORT: '0' };
  const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
  assert.equal(code, 2);
  assert.match(err, /flashq-ts: CLUSTER_MODE=1 requires DATABASE_URL/);
});
