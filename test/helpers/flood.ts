import net from 'node:net';

/** A TCP producer that wrote `batches` PUSHB lines of 1000 small jobs at once, counting answers. */
export interface Flood {
  sock: net.Socket;
  readonly answered: number;
  /** jobs in ok answers */
  readonly okJobs: number;
}

/**
 * Write `batches` PUSHB lines of 1000 jobs of ~100 B to `queue` in one go: far more than a shard
 * turns into queued jobs meanwhile, so its ring fills and the front stops reading.
 */
export async function floodPushb(port: number, queue: string, batches: number): Promise<Flood> {
  const jobs = Array.from({ length: 1000 }, (_, i) => ({ data: { i, pad: 'x'.repeat(80) } }));
  const line = Buffer.from(JSON.stringify({ cmd: 'PUSHB', queue, jobs }) + '\n');
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((res) => sock.once('connect', res));
  const state = { sock, answered: 0, okJobs: 0 };
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const a = JSON.parse(buf.slice(0, nl)) as { ok: boolean; ids?: number[] };
      buf = buf.slice(nl + 1);
      state.answered++;
      if (a.ok) state.okJobs += a.ids!.length;
    }
  });
  for (let i = 0; i < batches; i++) sock.write(line);
  return state;
}
