import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack, unpack } from 'msgpackr';
import { DEFAULT_MAX_FRAME, frame, FrameSplitter, type FrameSink } from '../../src/protocol/msgpack-frames.js';
import { PAYLOAD_LIMIT } from '../../src/base/errors.js';

function collector(): { sink: FrameSink; items: Array<unknown>; bufs: Buffer[] } {
  const items: Array<unknown> = [];
  const bufs: Buffer[] = [];
  return {
    items,
    bufs,
    sink: {
      frame: (buf, start, end) => {
        bufs.push(buf);
        if (start === end) items.push('empty');
        else {
          try {
            items.push(unpack(buf.subarray(start, end)));
          } catch {
            items.push(`bytes:${end - start}`);
          }
        }
      },
      oversize: (size) => items.push({ oversize: size }),
    },
  };
}

const a = frame(pack({ cmd: 'PUSH', queue: 'q', data: { x: 1 } }));
const b = frame(pack({ cmd: 'STATS' }));

describe('frame', () => {
  it('prefixes the bytes with their 4-byte big-endian length', () => {
    const out = frame(Uint8Array.from([1, 2, 3]));
    assert.deepEqual([...out], [0, 0, 0, 3, 1, 2, 3]);
  });
});

describe('FrameSplitter', () => {
  it('defaults maxFrame to the payload limit plus 64 KiB', () => {
    assert.equal(DEFAULT_MAX_FRAME, PAYLOAD_LIMIT + 65536);
    assert.equal(new FrameSplitter().maxFrame, DEFAULT_MAX_FRAME);
  });

  it('gives whole frames of a chunk as views of it', () => {
    const c = collector();
    const chunk = Buffer.concat([a, b]);
    new FrameSplitter().push(chunk, c.sink);
    assert.deepEqual(c.items, [{ cmd: 'PUSH', queue: 'q', data: { x: 1 } }, { cmd: 'STATS' }]);
    assert.ok(c.bufs.every((buf) => buf === chunk));
  });

  it('reassembles frames split anywhere, headers included', () => {
    const whole = Buffer.concat([a, b, a]);
    for (let cut1 = 1; cut1 < whole.length - 1; cut1 += 3) {
      for (const cut2 of [cut1 + 1, cut1 + 2, whole.length - 1]) {
        if (cut2 <= cut1 || cut2 >= whole.length) continue;
        const c = collector();
        const s = new FrameSplitter();
        s.push(whole.subarray(0, cut1), c.sink);
        s.push(whole.subarray(cut1, cut2), c.sink);
        s.push(whole.subarray(cut2), c.sink);
        assert.equal(c.items.length, 3, `cuts ${cut1}/${cut2}`);
        assert.deepEqual(c.items[1], { cmd: 'STATS' });
        assert.equal(s.buffered, 0);
      }
    }
  });

  it('works when fed one byte at a time', () => {
    const c = collector();
    const s = new FrameSplitter();
    const whole = Buffer.concat([a, b]);
    for (let i = 0; i < whole.length; i++) s.push(whole.subarray(i, i + 1), c.sink);
    assert.deepEqual(c.items, [{ cmd: 'PUSH', queue: 'q', data: { x: 1 } }, { cmd: 'STATS' }]);
  });

  it('passes a zero-length frame on (the decoder answers it)', () => {
    const c = collector();
    new FrameSplitter().push(Buffer.concat([Buffer.from([0, 0, 0, 0]), b]), c.sink);
    assert.deepEqual(c.items, ['empty', { cmd: 'STATS' }]);
  });

  it('reports an oversize length after the frames before it, then is dead', () => {
    const c = collector();
    const s = new FrameSplitter(100);
    const big = Buffer.alloc(4);
    big.writeUInt32BE(101);
    s.push(Buffer.concat([b, big, Buffer.alloc(50), b]), c.sink);
    assert.deepEqual(c.items, [{ cmd: 'STATS' }, { oversize: 101 }]);
    assert.equal(s.dead, true);
    s.push(b, c.sink);
    assert.equal(c.items.length, 2, 'nothing after the oversize frame');
  });

  it('accepts a frame of exactly maxFrame bytes', () => {
    const c = collector();
    const body = Buffer.alloc(100, 0xc0);
    const s = new FrameSplitter(100);
    s.push(frame(body).subarray(0, 60), c.sink);
    s.push(frame(body).subarray(60), c.sink);
    assert.deepEqual(c.items, ['bytes:100']);
    assert.equal(s.dead, false);
  });
});
