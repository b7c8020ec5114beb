/** What every command gets: its parsed arguments and a connected client, closed afterwards. */
import { FlashqClient } from '../../client/index.js';
import { bool, target, type Args, type Target } from '../args.js';

export interface Command {
  summary: string;
  usage: string;
  run(args: Args): Promise<number>;
}

export function wantsJson(args: Args): boolean {
  return bool(args, 'json');
}

export async function withClient<T>(args: Args, fn: (c: FlashqClient, t: Target) => Promise<T>): Promise<T> {
  const t = target(args);
  const client = new FlashqClient(t);
  try {
    await client.connect();
    return await fn(client, t);
  } finally {
    await client.close();
  }
}
