import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../../src/client/fifo.js';

test('the queue keeps first-in-first-out order across growth, wrap-around, unshift and pop', () => {
  const q = new Fifo<number>(2);
  const model: number[] = [];
  let next = 0;
  for (let step = 0; step < 5000; step++) {
    const r = (step * 7919) % 10;
    if (r < 5) {
      q.push(next);
      model.push(next++);
    } else if (r < 7) {
      assert.equal(q.shift(), model.shift());
    } else if (r < 8) {
      q.unshift(next);
      model.unshift(next++);
    } else if (r < 9) {
      assert.equal(q.pop(), model.pop());
    } else {
      assert.equal(q.peek(), model[0]);
      assert.equal(q.at(model.length - 1), model[model.length - 1]);
    }
    assert.equal(q.length, model.length);
  }
  assert.deepEqual(q.drain(), model);
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
});
