import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NODE_WIDE } from '../../src/cluster/link/codec.js';
import { ShardMail } from '../../src/cluster/shard-mail.js';

/** A node "me" whose partition map and links the test sets; every delivery is recorded. */
function node() {
  const owners = new Map<number, string>();
  const up = new Set<string>(['b', 'c']);
  const sent: string[] = [];
  const mail = new ShardMail({
    nodeId: 'me',
    ownerOf: (p) => owners.get(p) ?? null,
    toLocal: (p, json) => sent.push(`local ${p} ${json}`),
    toAllLocal: (json) => sent.push(`all-local ${json}`),
    toPeer: (owner, p, json, hops) => {
      if (!up.has(owner)) return false;
      sent.push(`${owner} ${p} hops=${hops} ${json}`);
      return true;
    },
    toAllPeers: (json) => sent.push(`all-peers ${json}`),
  });
  return { mail, owners, up, sent };
}

describe('ShardMail: shard messages routed by partition', () => {
  test('to the local shard when this node serves the partition, else to its owner with one more hop', () => {
    const { mail, owners, sent } = node();
    owners.set(1, 'me');
    owners.set(2, 'b');
    mail.route(1, 'x');
    mail.route(2, 'y');
    mail.route(2, 'z', 1);
    assert.deepEqual(sent, ['local 1 x', 'b 2 hops=1 y', 'b 2 hops=2 z']);
  });

  test('a partition with no owner routed holds its messages until its route changes, in order', () => {
    const { mail, owners, sent } = node();
    mail.route(7, 'm1');
    mail.route(7, 'm2');
    assert.deepEqual(sent, []);
    assert.equal(mail.holding, 2);
    mail.routeChanged(7); // still unrouted (moving): held again
    assert.deepEqual(sent, []);
    owners.set(7, 'c');
    mail.routeChanged(7);
    assert.deepEqual(sent, ['c 7 hops=1 m1', 'c 7 hops=1 m2']);
    assert.equal(mail.holding, 0);
  });

  test('an owner whose link is down holds its messages until the link comes up', () => {
    const { mail, owners, up, sent } = node();
    owners.set(3, 'b');
    owners.set(4, 'c');
    up.delete('b');
    mail.route(3, 'to-b');
    mail.route(4, 'to-c');
    assert.deepEqual(sent, ['c 4 hops=1 to-c']);
    up.add('b');
    mail.peerUp('c');
    assert.equal(mail.holding, 1, 'only the messages for the node that came up go');
    mail.peerUp('b');
    assert.deepEqual(sent, ['c 4 hops=1 to-c', 'b 3 hops=1 to-b']);
  });

  test('nodes whose maps disagree forward a message at most twice; then it waits for a route change here', () => {
    const { mail, owners, sent } = node();
    owners.set(5, 'b');
    mail.route(5, 'bounced', 2);
    assert.deepEqual(sent, []);
    owners.set(5, 'me');
    mail.routeChanged(5);
    assert.deepEqual(sent, ['local 5 bounced']);
  });

  test('a broadcast reaches every local shard, and the other nodes only from the node it started on', () => {
    const { mail, sent } = node();
    mail.route(NODE_WIDE, 'rewatch');
    mail.route(NODE_WIDE, 'from-peer', 1);
    assert.deepEqual(sent, ['all-local rewatch', 'all-peers rewatch', 'all-local from-peer']);
  });
});
