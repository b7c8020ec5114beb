import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, defaultNodeId, defaultShards, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('an empty environment gives the README defaults', () => {
    const c = loadConfig({}, []);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.port, 6789);
    assert.equal(c.httpPort, 6790);
    assert.equal(c.grpcPort, 6791);
    assert.equal(c.unixSocket, null);
    assert.deepEqual(c.authTokens, []);
    assert.equal(c.databaseUrl, null);
    assert.equal(c.persist, 'sync');
    assert.equal(c.storeTimeoutMs, 10_000);
    assert.equal(c.maxBatch, 1000);
    assert.equal(c.keepCompleted, 100_000);
    assert.equal(c.maxQueues, 10_000);
    assert.equal(c.clusterMode, false);
    assert.equal(c.nodeId, defaultNodeId('127.0.0.1', [6789, 6790, 6791]));
    assert.equal(c.nodeHost, '127.0.0.1');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.shards, defaultShards());
  });

  it('the default shard count: inline on two cores or fewer, one per core beyond the front, at most 8', () => {
    assert.deepEqual([1, 2, 3, 4, 9, 64].map((n) => defaultShards(n)), [0, 0, 2, 3, 8, 8]);
  });

  it('reads every variable, trimming tokens and lower-casing choices', () => {
    const c = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      HTTP_PORT: '8080',
      GRPC_PORT: '9090',
      UNIX_SOCKET: '/tmp/q.sock',
      AUTH_TOKENS: ' a , b,,c ',
      DATABASE_URL: 'postgres://u@h/db',
      PERSIST: 'ASYNC',
      STORE_TIMEOUT_MS: '500',
      SHARDS: '3',
      MAX_BATCH: '50',
      KEEP_COMPLETED: '0',
      MAX_QUEUES: '7',
      CLUSTER_MODE: 'yes',
      CLUSTER_PORT: '7000',
      CLUSTER_SECRET: 'a-secret-of-16-chars',
      NODE_ID: 'n1',
      NODE_HOST: 'h1',
      LOG_LEVEL: 'WARN',
    });
    assert.deepEqual(
      [c.host, c.port, c.httpPort, c.grpcPort, c.unixSocket, c.authTokens, c.databaseUrl, c.persist, c.storeTimeoutMs],
      ['127.0.0.1', 0, 8080, 9090, '/tmp/q.sock', ['a', 'b', 'c'], 'postgres://u@h/db', 'async', 500],
    );
    assert.deepEqual(
      [c.shards, c.maxBatch, c.keepCompleted, c.maxQueues, c.clusterMode, c.nodeId, c.nodeHost, c.logLevel],
      [3, 50, 0, 7, true, 'n1', 'h1', 'warn'],
    );
  });

  it('flags mean the same as the variables and win over them', () => {
    const c = loadConfig({ HTTP_PORT: '1', SHARDS: '1' }, ['--http-port=2', '--shards=0', '--auth-tokens=x']);
    assert.equal(c.httpPort, 2);
    assert.equal(c.shards, 0);
    assert.deepEqual(c.authTokens, ['x']);
  });

  it('empty values fall back to the defaults', () => {
    const c = loadConfig({ HOST: '', PORT: '', DATABASE_URL: '', UNIX_SOCKET: '', NODE_ID: '', CLUSTER_MODE: '' });
    assert.deepEqual([c.host, c.port, c.databaseUrl, c.unixSocket, c.clusterMode], ['0.0.0.0', 6789, null, null, false]);
    assert.match(c.nodeId, /^node-[0-9a-f]{12}$/);
  });

  it('refuses bad values with a message naming the variable and the value', () => {
    const refused: Array<[Record<string, string>, string[], RegExp]> = [
      [{ PORT: '65536' }, [], /^PORT must be an integer in 0\.\.65535, got "65536"$/],
      [{ HTTP_PORT: '80.5' }, [], /^HTTP_PORT must be an integer/],
      [{ SHARDS: 'two' }, [], /^SHARDS must be an integer in 0\.\.64, got "two"$/],
      [{ MAX_BATCH: '0' }, [], /^MAX_BATCH must be an integer in 1\.\./],
      [{ STORE_TIMEOUT_MS: '99' }, [], /^STORE_TIMEOUT_MS must be an integer in 100\.\./],
      [{ PERSIST: 'maybe' }, [], /^PERSIST must be sync or async, got "maybe"$/],
      [{ LOG_LEVEL: 'loud' }, [], /^LOG_LEVEL must be debug, info, warn, error or silent$/],
      [{ CLUSTER_MODE: 'sometimes' }, [], /^CLUSTER_MODE must be true or false, got "sometimes"$/],
      [{}, ['--port'], /^unknown argument "--port" \(use --name=value\)$/],
      [{}, ['port=1'], /^unknown argument "port=1"/],
    ];
    for (const [env, argv, message] of refused) {
      assert.throws(
        () => loadConfig(env, argv),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
        `${JSON.stringify(env)} ${argv.join(' ')}`,
      );
    }
  });

  it('reads only what it is given: process.env is not consulted when an environment is passed', () => {
    const before = process.env.PORT;
    process.env.PORT = '1234';
    try {
      assert.equal(loadConfig({}, []).port, 6789);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });
});

test('CORS_ORIGINS: * by default, none turns it off, a list is checked and kept lower-case', () => {
  assert.equal(loadConfig({}).corsOrigins, '*');
  assert.equal(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins, '*');
  assert.equal(loadConfig({ CORS_ORIGINS: 'none' }).corsOrigins, null);
  assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://App.example.com, http://localhost:3000' }).corsOrigins, ['https://app.example.com', 'http://localhost:3000']);
  assert.deepEqual(loadConfig({}, ['--cors-origins=http://a.test']).corsOrigins, ['http://a.test']);
  for (const bad of ['app.example.com', 'https://a.test/', 'https://a.test/path', 'http://a.test, *']) {
    assert.throws(() => loadConfig({ CORS_ORIGINS: bad }), (e: unknown) => e instanceof ConfigError && /^CORS_ORIGINS must be/.test(e.message), bad);
  }
});
