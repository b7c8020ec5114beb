import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { floodPushb } from '../helpers/flood.js';
import { WireClient } from '../helpers/wire.js';

let server: RunningServer;
before(async () => {
  server = await startServer({ SHARDS: '1' });
});
after(() => server.stop());

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/**
 * A client that pipelines requests and never reads: the server answers while it can, then stops
 * reading the socket once 1 MiB of answers wait unsent (MAX_UNSENT), so the client's own send
 * buffer grows instead of the server's memory. Once the client reads, every answer arrives, in order.
 */
test('a client that never reads its answers holds a bounded amount of server memory and loses nothing', { timeout: 60_000 }, async () => {
  const probe = await WireClient.open(server.port);
  const id = (await probe.call({ cmd: 'PUSH', queue: 'bp', data: 1 })).id as number;
  const before = rssBytes(server.proc.pid!);

  const sock = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.pause();
  const line = `{"cmd":"GETSTATE","id":${id}}\n`;
  const chunk = line.repeat(2000);
  let sent = 0;
  // write until 16 MiB wait in the client's own buffer: the server has stopped taking them
  await waitFor(
    () => {
      for (let i = 0; i < 20 && sock.writableLength <= 16 * 1024 * 1024; i++) {
        sock.write(chunk);
        sent += 2000;
      }
      return sock.writableLength > 16 * 1024 * 1024;
    },
    40_000,
    'the server to stop reading',
  );
  // The server has stopped reading: what waits in the client's buffer no longer drains. (A window
  // of observation, since the property is that nothing happens; without the MAX_UNSENT pause the
  // server keeps reading, buffering its answers, and this drains by megabytes a second.)
  const held = sock.writableLength;
  const watchUntil = Date.now() + 3000;
  let drained = 0;
  while (Date.now() < watchUntil) {
    await new Promise((r) => setTimeout(r, 50));
    drained = Math.max(drained, held - sock.writableLength);
  }
  assert.ok(drained < 2 * 1024 * 1024, `the server read ${(drained / 1048576).toFixed(1)} MiB more while its answers were not taken`);
  const grown = rssBytes(server.proc.pid!) - before;
  assert.ok(grown < 64 * 1024 * 1024, `server RSS grew ${(grown / 1048576).toFixed(1)} MiB while the client did not read`);
  // the server still serves others meanwhile
  assert.equal((await probe.call({ cmd: 'GETSTATE', id })).state, 'waiting');

  let answers = 0;
  let bad = 0;
  let rest = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop()!;
    for (const p of parts) {
      answers++;
      if (!p.includes('"state":"waiting"')) bad++;
    }
  });
  sock.resume();
  await waitFor(() => answers === sent, 40_000, `all ${sent} answers`);
  assert.equal(bad, 0);
  sock.destroy();
  await probe.close();
});

/** Regression: a ring that stayed full across several flushes left the front paused forever. */
test('a TCP producer far ahead of its shard gets every answer (reading resumes when the ring drains)', { timeout: 60_000 }, async () => {
  const flood = await floodPushb(server.port, 'bp-flood', 600);
  await waitFor(() => flood.answered === 600, 50_000, 'every batch answered');
  assert.equal(flood.okJobs, 600_000);
  flood.sock.destroy();
});
