import net from 'node:net';

export type Answer = { ok: boolean; error?: string; [k: string]: unknown };

/**
 * A bare JSON-lines client: pipelined requests, answers matched in order. When the socket closes,
 * every unanswered request rejects (its outcome is unknown), which is what the crash tests count.
 */
export class LineClient {
  private readonly socket: net.Socket;
  private readonly pending: Array<{ resolve: (a: Answer) => void; reject: (e: Error) => void }> = [];
  private buf = '';
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.pending.shift()?.resolve(JSON.parse(line) as Answer);
      }
    });
    const fail = () => {
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(new Error('connection closed'));
    };
    socket.on('close', fail);
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host);
      s.once('connect', () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }

  send(cmd: Record<string, unknown>): Promise<Answer> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(JSON.stringify(cmd) + '\n');
    });
  }

  /** Send and require ok. */
  async ok(cmd: Record<string, unknown>): Promise<Answer> {
    const a = await this.send(cmd);
    if (!a.ok) throw new Error(`${String(cmd.cmd)} failed: ${a.error}`);
    return a;
  }

  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Retry connecting until the server listens (after a restart on the same port). */
export async function connectWhenUp(port: number, timeoutMs = 15_000): Promise<LineClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await LineClient.connect(port);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
