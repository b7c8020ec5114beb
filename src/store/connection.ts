import net from 'node:net';
import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;

export interface ConnectOptions {
  /** connections in this pool (a shard writes on exactly one) */
  max: number;
  /** shown in pg_stat_activity */
  name: string;
  /** seconds */
  connectTimeout?: number;
}

/**
 * A `postgres` pool tuned for the store:
 * - Nagle off. COPY sends its data and the CopyDone message as two writes; with Nagle on the
 *   second waits for the server's delayed ACK and every COPY costs ~40 ms (measured: 19k rows/s
 *   in batches of 1000 with it, 180k rows/s without).
 * - int8 parsed as Number: ids and epoch-ms times stay below 2^53.
 * - no type fetch at connect (we cast arrays to JSON text where we read them), no notices.
 */
export function connect(url: string, opts: ConnectOptions): Sql {
  let next = 0;
  return postgres(url, {
    max: opts.max,
    idle_timeout: 0,
    connect_timeout: opts.connectTimeout ?? 10,
    fetch_types: false,
    prepare: true,
    onnotice: () => {},
    connection: { application_name: opts.name },
    types: {
      int8: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
    // Handed over while still connecting: the driver writes its startup message into the
    // socket's buffer and learns of a refused connection through the socket's own error and close
    // events, as with the sockets it makes itself (awaiting 'connect' here instead leaves the
    // driver's connection stuck forever after one refusal).
    socket: (o: { host: string[]; port: number[]; path?: string }) => {
      const i = next++ % Math.max(1, o.host.length);
      return o.path ? net.connect({ path: o.path }) : net.connect({ host: o.host[i], port: o.port[i] ?? o.port[0], noDelay: true });
    },
  } as unknown as postgres.Options<Record<string, never>>) as unknown as Sql;
}

/** The URL with its password replaced, for messages. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** A short, single-line reason from a driver or server error. */
export function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err?.message ?? String(e);
  return err?.code && !msg.includes(err.code) ? `${msg} (${err.code})` : msg;
}

/**
 * Start COPY … FROM STDIN and send `text` (already in COPY text format). Resolves once the data
 * and CopyDone are on their way, without waiting for the server: the driver's writable never
 * finishes when the server rejects the data (its final callback only runs on success), so the
 * outcome is read from the statements pipelined behind it and from COMMIT's tag (see
 * PipelinedTransaction).
 */
export async function sendCopy(sql: Sql, statement: string, text: string): Promise<void> {
  const w = await sql.unsafe(statement).writable();
  w.on('error', () => {});
  // The driver's destroy hook writes CopyFail, and the stream is auto-destroyed after it finished,
  // i.e. after the COPY succeeded. That CopyFail is ignored between statements, but when the next
  // COPY of the transaction is already under way it aborts that one. The server needs no CopyFail
  // from us: it has either completed the COPY or reported its own error.
  (w as unknown as { _destroy: (e: Error | null, cb: (e: Error | null) => void) => void })._destroy = (e, cb) => cb(e);
  await new Promise<void>((resolve, reject) => w.write(text, (e) => (e ? reject(e) : resolve())));
  w.end();
  // CopyDone leaves from the stream's final hook, after this tick; a query issued before that is
  // refused by the driver (COPY_IN_PROGRESS)
  await new Promise((r) => setImmediate(r));
}
