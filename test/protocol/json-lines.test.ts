import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MAX_LINE, LineSplitter, type LineSink } from '../../src/protocol/json-lines.js';
import { PAYLOAD_LIMIT } from '../../src/base/errors.js';

type Item = { line: string; buf: Buffer } | { oversize: number };

function collector(): { sink: LineSink; items: Item[]; lines: () => Array<string | number> } {
  const items: Item[] = [];
  return {
    items,
    sink: {
      line: (buf, start, end) => items.push({ line: buf.toString('utf8', start, end), buf }),
      oversize: (size) => items.push({ oversize: size }),
    },
    lines: () => items.map((i) => ('line' in i ? i.line : -i.oversize)),
  };
}

describe('LineSplitter', () => {
  it('defaults maxLine to the payload limit plus 64 KiB', () => {
    assert.equal(new LineSplitter().maxLine, PAYLOAD_LIMIT + 65536);
    assert.equal(DEFAULT_MAX_LINE, PAYLOAD_LIMIT + 65536);
  });

  it('gives every complete line of a chunk as a view of that chunk (zero copy)', () => {
    const c = collector();
    const chunk = Buffer.from('{"cmd":"STATS"}\n{"cmd":"METRICS"}\n');
    new LineSplitter().push(chunk, c.sink);
    assert.deepEqual(c.lines(), ['{"cmd":"STATS"}', '{"cmd":"METRICS"}']);
    for (const item of c.items) assert.ok('buf' in item && item.buf === chunk);
  });

  it('assembles a line spanning several chunks once', () => {
    const c = collector();
    const s = new LineSplitter();
    s.push(Buffer.from('{"cmd":"PU'), c.sink);
    assert.equal(s.buffered, 10);
    s.push(Buffer.from('SH","queue":'), c.sink);
    s.push(Buffer.from('"q"}\n{"cmd":'), c.sink);
    assert.deepEqual(c.lines(), ['{"cmd":"PUSH","queue":"q"}']);
    const first = c.items[0]!;
    assert.ok('buf' in first && first.buf.length === '{"cmd":"PUSH","queue":"q"}'.length);
    s.push(Buffer.from('"STATS"}\n'), c.sink);
    assert.deepEqual(c.lines(), ['{"cmd":"PUSH","queue":"q"}', '{"cmd":"STATS"}']);
    assert.equal(s.buffered, 0);
  });

  it('tolerates \\r\\n and skips empty and whitespace-only lines', () => {
    const c = collector();
    new LineSplitter().push(Buffer.from('{"a":1}\r\n\r\n   \n\t\r\n  {"b":2}  \r\n\n'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}', '{"b":2}']);
  });

  it('handles a \\r\\n split between chunks', () => {
    const c = collector();
    const s = new LineSplitter();
    s.push(Buffer.from('{"a":1}\r'), c.sink);
    s.push(Buffer.from('\n{"b":2}\n'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}', '{"b":2}']);
  });

  it('works when fed one byte at a time', () => {
    const c = collector();
    const s = new LineSplitter();
    const input = Buffer.from('{"x":"é"}\n\n{"y":[1,2]}\r\n');
    for (let i = 0; i < input.length; i++) s.push(input.subarray(i, i + 1), c.sink);
    assert.deepEqual(c.lines(), ['{"x":"é"}', '{"y":[1,2]}']);
  });

  it('accepts a line of exactly maxLine bytes', () => {
    const c = collector();
    const s = new LineSplitter(10);
    s.push(Buffer.from('0123456789\n'), c.sink);
    s.push(Buffer.from('01234'), c.sink);
    s.push(Buffer.from('56789\n'), c.sink);
    assert.deepEqual(c.lines(), ['0123456789', '0123456789']);
  });

  it('reports an oversize line inside one chunk in order and keeps the next good line', () => {
    const c = collector();
    new LineSplitter(10).push(Buffer.from('{"a":1}\n{"big":"0123456789"}\n{"b":2}\n'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}', -20, '{"b":2}']);
  });

  it('reports an oversize line as soon as it is detected, discards it up to the next \\n, then resynchronises', () => {
    const c = collector();
    const s = new LineSplitter(10);
    s.push(Buffer.from('{"a":1}\n{"big":'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}']);
    s.push(Buffer.from('"0123'), c.sink); // 12 bytes pending > 10: detected here
    assert.deepEqual(c.lines(), ['{"a":1}', -12]);
    assert.equal(s.buffered, 0, 'an oversize line is not buffered');
    s.push(Buffer.from('456789 more and more'), c.sink);
    s.push(Buffer.from(' still the same line'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}', -12]);
    s.push(Buffer.from('"}\n{"b":2}\n'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}', -12, '{"b":2}']);
  });

  it('reports an oversize tail of a chunk and resynchronises in a later chunk', () => {
    const c = collector();
    const s = new LineSplitter(8);
    s.push(Buffer.from('{"a":1}\n0123456789abc'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}', -13]);
    s.push(Buffer.from('def\n{"b":2}\n'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}', -13, '{"b":2}']);
  });

  it('reports an oversize line that completes in the chunk where it is detected', () => {
    const c = collector();
    const s = new LineSplitter(8);
    s.push(Buffer.from('0123'), c.sink);
    s.push(Buffer.from('456789\n{"b":2}\n'), c.sink);
    assert.deepEqual(c.lines(), [-10, '{"b":2}']);
  });

  it('reset forgets a partial line', () => {
    const c = collector();
    const s = new LineSplitter();
    s.push(Buffer.from('{"half":'), c.sink);
    s.reset();
    s.push(Buffer.from('{"a":1}\n'), c.sink);
    assert.deepEqual(c.lines(), ['{"a":1}']);
  });
});
