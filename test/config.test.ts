import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';

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
