/** The server's HTTP API as the page uses it: the `{ok,data,error}` envelope and a bearer token. */

const TOKEN_KEY = 'flashq.token';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

type AuthListener = (message: string) => void;

export class Api {
  /** kept for this tab only (sessionStorage), never in localStorage or a cookie */
  token: string | null = sessionStorage.getItem(TOKEN_KEY);
  /** told when the server refuses the token, so the page asks for one */
  onUnauthorized: AuthListener | null = null;

  setToken(token: string | null): void {
    this.token = token;
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  }

  async call<T>(method: string, path: string, body?: unknown, token = this.token): Promise<T> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError('Cannot reach the server (network error)', 0);
    }
    let env: { ok?: boolean; data?: T; error?: string | null };
    try {
      env = (await res.json()) as typeof env;
    } catch {
      throw new ApiError(`Unexpected answer from the server (HTTP ${res.status})`, res.status);
    }
    if (!res.ok || env.ok !== true) {
      const err = new ApiError(env.error || `HTTP ${res.status}`, res.status);
      if (err.unauthorized && token === this.token) this.onUnauthorized?.(err.message);
      throw err;
    }
    return env.data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }
  del<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }
}

export const api = new Api();

/** A path segment (queue names are letters, digits, `_-.`; cron names and ids may be anything). */
export const seg = encodeURIComponent;

// ---- shapes of the answers the page reads (flashq-api.md) ----

export interface QueueRow {
  name: string;
  pending: number;
  processing: number;
  dlq: number;
  paused: boolean;
  rate_limit: number | null;
  concurrency_limit: number | null;
  waiting?: number;
  delayed?: number;
  waiting_children?: number;
}

export interface JobRow {
  id: number;
  queue: string;
  data: unknown;
  priority: number;
  created_at: number;
  run_at: number;
  started_at: number;
  attempts: number;
  max_attempts: number;
  backoff: number;
  ttl: number | null;
  timeout: number | null;
  unique_key: string | null;
  depends_on: number[];
  progress: number;
  progress_msg: string | null;
  tags: string[];
  lifo: boolean;
  state: string;
  result?: unknown;
  error?: string | null;
}

export interface MetricsPoint {
  timestamp: number;
  total_pushed: number;
  total_completed: number;
  total_failed: number;
  jobs_per_second: number;
  avg_latency_ms: number;
  queued: number;
  processing: number;
  delayed: number;
  dlq: number;
}

export interface Metrics {
  total_pushed: number;
  total_completed: number;
  total_failed: number;
  jobs_per_second: number;
  avg_latency_ms: number;
}

export interface Stats {
  queued: number;
  processing: number;
  delayed: number;
  dlq: number;
}

export interface CronRow {
  name: string;
  queue: string;
  schedule: string;
  data: unknown;
  priority: number;
  next_run: number;
}
