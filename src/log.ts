/**
 * Structured logs: one JSON object per line on stdout, quiet by default (a few lifecycle lines at
 * info; per-request logging only at debug).
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type Level = keyof typeof LEVELS;

let threshold: number = LEVELS.info;
let base: Record<string, unknown> = {};

export function setLogLevel(level: Level, fields: Record<string, unknown> = {}): void {
  threshold = LEVELS[level];
  base = fields;
}

function emit(level: Exclude<Level, 'silent'>, msg: string, fields?: Record<string, unknown>): void {
  if (LEVELS[level] < threshold) return;
  const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...base, ...fields });
  process.stdout.write(line + '\n');
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => emit('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => emit('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => emit('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => emit('error', msg, fields),
  enabled: (level: Level) => LEVELS[level] >= threshold,
};
