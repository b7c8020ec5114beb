import { runServer } from '../../main.js';

export const serveSummary = 'start the server (its flags and environment as in the README: --port, --http-port, …)';

/** The server parses its own flags (src/config.ts): they are handed over untouched. */
export async function serve(rawArgs: string[]): Promise<void> {
  await runServer(rawArgs);
}
