import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** proto/flashq.proto of the repository, found by walking up to the directory holding package.json. */
export function protoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto', 'flashq.proto'))) return join(dir, 'proto', 'flashq.proto');
    const up = dirname(dir);
    if (up === dir) throw new Error('proto/flashq.proto not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Loader options of a typical Node client: camelCase fields, numbers for 64-bit ints, enum names. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Raw = any;

export interface CallOptions {
  token?: string;
  deadlineMs?: number;
  metadata?: Record<string, string>;
}

/** A grpc-js client of flashq.QueueService as users build it (proto-loader), with promise helpers. */
export class FlashqGrpc {
  readonly raw: Raw;

  constructor(
    port: number,
    private readonly token: string | null = null,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const def = protoLoader.loadSync(protoPath(), LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(def) as Raw;
    this.raw = new pkg.flashq.QueueService(`127.0.0.1:${port}`, credentials, {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  metadata(opts: CallOptions = {}): grpc.Metadata {
    const md = new grpc.Metadata();
    const token = opts.token ?? this.token;
    if (token !== null) md.add('authorization', `Bearer ${token}`);
    for (const [k, v] of Object.entries(opts.metadata ?? {})) md.add(k, v);
    return md;
  }

  callOptions(opts: CallOptions = {}): grpc.CallOptions {
    return opts.deadlineMs !== undefined ? { deadline: Date.now() + opts.deadlineMs } : {};
  }

  /** A unary call as a promise. */
  call<T = Raw>(method: string, request: object, opts: CallOptions = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      this.raw[method](request, this.metadata(opts), this.callOptions(opts), (err: grpc.ServiceError | null, res: T) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  streamJobs(request: object, opts: CallOptions = {}): grpc.ClientReadableStream<Raw> {
    return this.raw.streamJobs(request, this.metadata(opts), this.callOptions(opts));
  }

  processJobs(opts: CallOptions = {}): grpc.ClientDuplexStream<Raw, Raw> {
    return this.raw.processJobs(this.metadata(opts), this.callOptions(opts));
  }

  close(): void {
    this.raw.close();
  }
}

export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function parse(data: Buffer | Uint8Array): unknown {
  return JSON.parse(Buffer.from(data).toString('utf8'));
}

/** The ServiceError of a call that must fail. */
export async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error('the call succeeded but was expected to fail');
}

/** The status a stream ended with. */
export function streamStatus(call: grpc.ClientReadableStream<Raw> | grpc.ClientDuplexStream<Raw, Raw>): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    call.on('error', () => {});
    call.on('status', (s: grpc.StatusObject) => resolve(s));
  });
}

export { grpc };
