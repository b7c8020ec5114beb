import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack } from 'msgpackr';
import { scanJsonReqId, scanMsgpackReqId } from '../../src/protocol/reqid-scan.js';

describe('reqId scanning (for answers made without a full decode)', () => {
  it('finds a string or number reqId in JSON, before malformed bytes', () => {
    const b = Buffer.from('{"cmd":"PUSH","data":{"reqId":"nested"},"reqId":"r-1","queue":');
    assert.equal(scanJsonReqId(b, 0, b.length), 'r-1');
    const c = Buffer.from('{"reqId":17,"cmd":}');
    assert.equal(scanJsonReqId(c, 0, c.length), 17);
    const d = Buffer.from('{"reqId":{"a":1},"cmd":"X"}');
    assert.equal(scanJsonReqId(d, 0, d.length), null);
    const e = Buffer.from('{"cmd":"X"}');
    assert.equal(scanJsonReqId(e, 0, e.length), null);
    const f = Buffer.from('{"reqId":"a\\"b"}');
    assert.equal(scanJsonReqId(f, 0, f.length), 'a"b');
  });

  it('finds a reqId in MessagePack', () => {
    const b = pack({ cmd: 'PUSH', data: { reqId: 'nested' }, reqId: 'r-2' });
    assert.equal(scanMsgpackReqId(b, 0, b.length), 'r-2');
    const c = pack({ reqId: 9, cmd: 'X' });
    assert.equal(scanMsgpackReqId(c, 0, c.length), 9);
    const d = pack({ cmd: 'X' });
    assert.equal(scanMsgpackReqId(d, 0, d.length), null);
  });
});
