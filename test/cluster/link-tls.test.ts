import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PeerClient } from '../../src/cluster/link/peer-client.js';
import { makeNodePki, type NodePki } from '../helpers/tls.js';
import { pair, Recorder, send, SECRET, waitFor, type Pair } from './link-node.js';

let pki: NodePki;
const open: Pair[] = [];
before(() => {
  pki = makeNodePki();
});
after(async () => {
  for (const p of open) await p.close();
  pki?.remove();
});

const parse = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

test('over mutual TLS the link authenticates both nodes and carries requests', async () => {
  const [a, b] = pki.nodes;
  const p = await pair({ tls: { ...b!, ca: pki.ca } }, { tls: { ...a!, ca: pki.ca } });
  open.push(p);
  p.client.start();
  await waitFor(() => p.client.connected, 10_000, 'the TLS link');
  for (let i = 1; i <= 100; i++) send(p.client, 3, i, { cmd: 'PUSH', queue: 'tls-q', data: { i } });
  await p.out.until(() => p.out.answers.length === 100);
  assert.deepEqual(p.out.answers.map((x) => x.seq), Array.from({ length: 100 }, (_, i) => i + 1));
  assert.ok(p.out.answers.every((x) => x.code === 0 && parse(x.text).ok === true));
  send(p.client, 3, 101, { cmd: 'PULL', queue: 'tls-q', timeout: 0 });
  await p.out.until(() => p.out.answers.length === 101);
  assert.deepEqual((parse(p.out.answers[100]!.text).job as { data: unknown }).data, { i: 1 });
});

test('a TLS owner refuses a plaintext origin, an origin certified by another CA, and an origin refuses an owner it cannot verify', async () => {
  const [a, b] = pki.nodes;
  const p = await pair({ tls: { ...b!, ca: pki.ca } });
  open.push(p);
  const attempt = async (tls: ConstructorParameters<typeof PeerClient>[0]['tls'], port = p.port): Promise<string> => {
    const out = new Recorder();
    const c = new PeerClient({ nodeId: 'node-x', peerId: 'node-b', host: '127.0.0.1', port, secret: SECRET, tls, output: out, backoffMinMs: 5000, handshakeTimeoutMs: 3000 });
    c.start();
    send(c, 1, 1, { cmd: 'PUSH', queue: 'q', data: {} });
    await out.until(() => out.answers.length === 1, 10_000, 'the refused request');
    assert.equal(c.connected, false);
    assert.equal(out.answers[0]!.code, 9);
    await c.close();
    return parse(out.answers[0]!.text).error as string;
  };
  assert.match(await attempt(null), /^Storage unavailable: cluster link to node node-b \(127\.0\.0\.1:\d+\) unreachable/);
  assert.match(await attempt({ ...pki.rogue, ca: pki.ca }), /unreachable/);
  // an owner without client verification, an origin with no CA for its self-signed chain: refused by the origin
  const q = await pair({ tls: { ...b!, ca: null } });
  open.push(q);
  assert.match(await attempt({ ...a!, ca: null }, q.port), /unreachable: .*(certificate|self.signed|issuer)/i);
  assert.equal(p.server.sessionCount, 0);
  assert.equal(q.server.sessionCount, 0);
});
