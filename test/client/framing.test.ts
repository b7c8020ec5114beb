import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import { JsonLineDecoder, MsgpackFrameDecoder, encodeMsgpack } from '../../src/client/framing.js';

const messages = [{ ok: true, id: 1 }, { ok: true, jobs: [{ id: 2, data: { text: 'héllo — 😀' } }] }, { ok: false, error: 'Job 9 not found' }];

test('a JSON-lines stream split at any position decodes to the same answers', () => {
  const text = messages.map((m) => JSON.stringify(m)).join('\r\n') + '\n';
  for (let cut = 0; cut <= text.length; cut++) {
    for (const second of [cut, Math.min(text.length, cut + 7)]) {
      const got: unknown[] = [];
      const d = new JsonLineDecoder((m) => got.push(m));
      d.push(text.slice(0, cut));
      d.push(text.slice(cut, second));
      d.push(text.slice(second));
      assert.deepEqual(got, messages, `cut at ${cut}/${second}`);
    }
  }
});

test('blank lines between JSON answers are ignored', () => {
  const got: unknown[] = [];
  const d = new JsonLineDecoder((m) => got.push(m));
  d.push('\n{"ok":true}\n\n\r\n{"ok":false,"error":"x"}\n');
  assert.deepEqual(got, [{ ok: true }, { ok: false, error: 'x' }]);
});

test('a MessagePack frame stream split at any position decodes to the same answers', () => {
  const frames = messages.map((m) => {
    const body = pack(m);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0);
    return Buffer.concat([head, body]);
  });
  const bytes = Buffer.concat(frames);
  for (let cut = 0; cut <= bytes.length; cut++) {
    for (const second of [cut, Math.min(bytes.length, cut + 1), Math.min(bytes.length, cut + 3)]) {
      const got: unknown[] = [];
      const d = new MsgpackFrameDecoder((m) => got.push(m));
      d.push(bytes.subarray(0, cut));
      d.push(bytes.subarray(cut, second));
      d.push(bytes.subarray(second));
      assert.deepEqual(got, messages, `cut at ${cut}/${second}`);
    }
  }
});

test('a MessagePack frame arriving one byte at a time decodes once complete', () => {
  const frame = encodeMsgpack({ ok: true, ids: Array.from({ length: 300 }, (_, i) => i) });
  const got: unknown[] = [];
  const d = new MsgpackFrameDecoder((m) => got.push(m));
  for (let i = 0; i < frame.length; i++) {
    assert.equal(got.length, 0);
    d.push(frame.subarray(i, i + 1));
  }
  assert.deepEqual(got, [{ ok: true, ids: Array.from({ length: 300 }, (_, i) => i) }]);
});

test('an encoded command is a 4-byte big-endian length and a plain map without undefined fields', () => {
  const frame = encodeMsgpack({ cmd: 'PUSH', queue: 'q', data: { a: 1 }, priority: undefined });
  assert.equal(frame.readUInt32BE(0), frame.length - 4);
  const got: unknown[] = [];
  new MsgpackFrameDecoder((m) => got.push(m)).push(frame);
  assert.deepEqual(got, [{ cmd: 'PUSH', queue: 'q', data: { a: 1 } }]);
});
