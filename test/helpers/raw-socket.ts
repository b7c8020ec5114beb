import net from 'node:net';

export interface RawSocket {
  s: net.Socket;
  /** everything received so far, as latin1 text */
  got: () => string;
  /** ms from connect until the socket closed */
  closed: Promise<number>;
}

/** A raw socket that records what it receives and when it closes. */
export function rawSocket(port: number): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const t0 = Date.now();
    const closed = new Promise<number>((r) => s.once('close', () => r(Date.now() - t0)));
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.once('connect', () => resolve({ s, got: () => got, closed }));
    s.once('error', reject);
  });
}
