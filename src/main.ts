#!/usr/bin/env node
/** The server process: `npm start`, or `flashq-ts serve` (src/cli) which calls runServer. */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig } from './config.js';
import { log, setLogLevel } from './log.js';
import { Server } from './server.js';

/** Start the server with these flags (and the environment); it runs until SIGTERM/SIGINT. */
export async function runServer(argv: string[]): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`flashq-ts: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  setLogLevel(config.logLevel, { node: config.nodeId });
  const server = new Server(config);
  try {
    await server.start();
  } catch (e) {
    log.error('start failed', { error: (e as Error).message });
    await server.stop().catch(() => {});
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    server.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('stop failed', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  server.onExit = (code) => process.exit(code);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) void runServer(process.argv.slice(2));
