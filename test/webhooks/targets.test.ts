import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { WebhookDelivery } from '../../src/webhooks/delivery.js';
import { checkTargetUrl, guardedLookup, isLinkLocal, parseIPv4 } from '../../src/webhooks/target.js';
import { waitFor } from '../helpers/server.js';

/** Every spelling of a refused address that a URL (or a resolver) can carry. */
const REFUSED_URLS = [
  'http://169.254.169.254/latest/meta-data',
  'http://169.254.0.1/',
  'http://2852039166/', // decimal
  'http://0xA9FEA9FE/', // hex
  'http://0xa9.0xfe.0xa9.0xfe/',
  'http://0251.0376.0251.0376/', // octal
  'http://169.254.43518/', // short forms
  'http://169.16689662/',
  'http://0251.16689662/',
  'https://169.254.169.254.:8443/', // trailing dot
  'http://[::ffff:169.254.169.254]/', // IPv4-mapped
  'http://[::ffff:a9fe:a9fe]/',
  'http://[0:0:0:0:0:ffff:169.254.1.1]/',
  'http://[::169.254.169.254]/', // IPv4-compatible
  'http://[64:ff9b::169.254.169.254]/', // NAT64
  'http://[2002:a9fe:a9fe::1]/', // 6to4
  'http://[fe80::1]/',
  'http://[FE80::abcd]/',
  'http://[febf::1]/',
  'http://100.100.100.200/latest/meta-data', // Alibaba Cloud metadata
  'http://[fd00:ec2::254]/', // AWS IPv6 metadata
];

const ALLOWED_URLS = [
  'http://127.0.0.1:9000/hook',
  'http://10.0.0.1/',
  'http://169.255.0.1/',
  'http://169.253.255.255/',
  'http://[::1]/',
  'http://[fec0::1]/',
  'http://[::ffff:127.0.0.1]/',
  'https://hooks.example.com/x',
  'http://100.100.100.201/',
];

describe('webhook targets', () => {
  test('link-local and metadata addresses are refused in every spelling at creation', () => {
    for (const u of REFUSED_URLS) {
      assert.throws(() => checkTargetUrl(u), (e: Error) => /link-local|metadata/.test(e.message), u);
    }
    for (const u of ALLOWED_URLS) assert.doesNotThrow(() => checkTargetUrl(u), u);
  });

  test('host strings are compared by value, whatever their spelling', () => {
    for (const h of ['169.254.169.254', '2852039166', '0xa9fea9fe', '0251.0376.0251.0376', '169.254.43518', '::ffff:169.254.169.254', 'fe80::1%eth0', '100.100.100.200']) {
      assert.equal(isLinkLocal(h), true, h);
    }
    for (const h of ['127.0.0.1', '10.0.0.1', '169.255.0.1', '::1', 'fec0::1', '::ffff:127.0.0.1', 'example.com', '1.2.3.4.example', '']) {
      assert.equal(isLinkLocal(h), false, h);
    }
    // inet_aton's reading, checked against hand-computed values
    assert.equal(parseIPv4('0x7f.1'), 0x7f000001);
    assert.equal(parseIPv4('127.0.0.1'), 0x7f000001);
    assert.equal(parseIPv4('4294967295'), 0xffffffff);
    assert.equal(parseIPv4('4294967296'), null);
    assert.equal(parseIPv4('256.0.0.1'), null);
    assert.equal(parseIPv4('09.1.1.1'), null, '09 is not octal');
  });

  test('a name that resolves to a refused address is refused at connect time', async () => {
    const fake = (answer: string) => (_h: string, _o: object, cb: (e: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void) =>
      cb(null, [{ address: '10.1.1.1', family: 4 }, { address: answer, family: answer.includes(':') ? 6 : 4 }]);
    for (const answer of ['169.254.169.254', '::ffff:169.254.169.254', 'fe80::2', 'fd00:ec2::254']) {
      const lookup = guardedLookup(fake(answer));
      const err = await new Promise<NodeJS.ErrnoException | null>((r) => lookup('metadata.internal', { all: true }, (e) => r(e)));
      assert.equal(err?.code, 'EACCES', answer);
      assert.match(err!.message, /metadata\.internal resolves to/);
    }
    const ok = guardedLookup(fake('192.168.1.9'));
    const got = await new Promise<NodeJS.ErrnoException | null>((r) => ok('hooks.internal', { all: true }, (e) => r(e)));
    assert.equal(got, null);
  });

  describe('delivery over real sockets', () => {
    let server: HttpServer;
    let port = 0;
    const hits: string[] = [];
    before(async () => {
      server = createServer((req, res) => {
        hits.push(req.url ?? '');
        req.resume();
        req.on('end', () => {
          if (req.url === '/to-metadata') {
            res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
          } else if (req.url === '/to-landing') {
            res.writeHead(307, { location: `http://127.0.0.1:${port}/landing` }).end();
          } else {
            res.writeHead(200).end('ok');
          }
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    test('redirects are never followed: a 3xx answer is a failed attempt', async () => {
      const d = new WebhookDelivery({ attempts: 2, backoffMs: 10 });
      d.enqueue(`http://127.0.0.1:${port}/to-metadata`, null, 'job.pushed', Buffer.from('{}'));
      d.enqueue(`http://127.0.0.1:${port}/to-landing`, null, 'job.pushed', Buffer.from('{}'));
      await waitFor(() => d.stats.failed === 2, 5000, 'both deliveries to fail');
      assert.equal(d.stats.delivered, 0);
      assert.deepEqual(hits.filter((h) => h === '/to-metadata').length, 2, 'each attempt asked the first URL only');
      assert.equal(hits.includes('/landing'), false, 'the redirect target was never asked');
      d.enqueue(`http://127.0.0.1:${port}/fine`, null, 'job.pushed', Buffer.from('{}'));
      await waitFor(() => d.stats.delivered === 1, 5000, 'a plain delivery');
      d.close();
    });

    test('a stored URL that is refused fails at delivery without a request', async () => {
      const d = new WebhookDelivery({ attempts: 1 });
      const before = hits.length;
      d.enqueue('http://0xA9FEA9FE:80/x', null, 'job.pushed', Buffer.from('{}'));
      d.enqueue('http://[::ffff:169.254.169.254]/x', null, 'job.pushed', Buffer.from('{}'));
      await waitFor(() => d.stats.failed === 2, 5000, 'both refused');
      assert.equal(hits.length, before);
      d.close();
    });
  });
});
