import { execFile, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, resolved from dist/test/cli/helpers.js */
export const CLI = resolve(here, '../../src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `flashq-ts ...args` to completion (bounded by timeoutMs). */
export function cli(args: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = execFile(process.execPath, [CLI, ...args], { timeout: options.timeoutMs ?? 60_000, env: { ...process.env, NO_COLOR: '', ...options.env } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        rej(new Error(`flashq-ts ${args.join(' ')}: ${err.message}\n${stderr}`));
        return;
      }
      res({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

/** Run a command that must succeed and print JSON (--json is added). */
export async function cliJson<T = unknown>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  if (r.code !== 0) throw new Error(`flashq-ts ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export { spawn };
