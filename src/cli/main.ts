#!/usr/bin/env node
/**
 * flashq-ts: the command-line tool. `flashq-ts serve` runs the server; the other commands talk to
 * any flashQ-compatible server (--host/--port/--socket/--token/--tls; --http-port for the commands
 * that use the HTTP API). Exit codes: 0 done, 1 the server refused or could not be reached, 2 usage.
 */
import { FlashqClientError, FlashqConnectionError } from '../client/index.js';
import { parseArgs, UsageError } from './args.js';
import { DeliveryError } from './bench/delivery.js';
import { bench } from './commands/bench.js';
import type { Command } from './commands/context.js';
import { cron } from './commands/cron.js';
import { dlq } from './commands/dlq.js';
import { jobs } from './commands/jobs.js';
import { pull } from './commands/pull.js';
import { push } from './commands/push.js';
import { queues } from './commands/queues.js';
import { retry } from './commands/retry.js';
import { serve, serveSummary } from './commands/serve.js';
import { stats } from './commands/stats.js';
import { tail } from './commands/tail.js';

const COMMANDS: Record<string, Command> = { push, pull, stats, queues, jobs, dlq, retry, cron, tail, bench };

const COMMON =
  'connection: --host 127.0.0.1 --port 6789 | --nodes host:port,… | --socket PATH, --token T,\n' +
  '            --tls [--ca F --cert F --key F --insecure]\n' +
  '            (or FLASHQ_HOST, FLASHQ_PORT, FLASHQ_NODES, FLASHQ_HTTP_PORT, FLASHQ_TOKEN in the environment)\n' +
  '            --http-port 6790 (jobs, queues drain, tail); output: --json for scripts';

function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length), 5);
  const lines = [`serve`.padEnd(w) + '  ' + serveSummary, ...Object.entries(COMMANDS).map(([k, c]) => k.padEnd(w) + '  ' + c.summary)];
  return `usage: flashq-ts <command> [options]   (flashq-ts <command> --help for its options)\n\n${lines.map((l) => '  ' + l).join('\n')}\n\n${COMMON}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === 'serve') {
    await serve(rest);
    return -1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`flashq-ts: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  try {
    const args = parseArgs(rest);
    if (args.flags.get('help') === true) {
      process.stdout.write(`usage: flashq-ts ${cmd.usage}\n\n${COMMON}\n`);
      return 0;
    }
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`flashq-ts ${name}: ${e.message}\nusage: flashq-ts ${cmd.usage}\n`);
      return 2;
    }
    if (e instanceof FlashqClientError || e instanceof FlashqConnectionError || e instanceof DeliveryError) {
      process.stderr.write(`flashq-ts ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // serve keeps running; every other command ends here (open handles must not keep it alive)
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`flashq-ts: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
