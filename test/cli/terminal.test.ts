/**
 * flashq-ts in a real terminal (tmux): `tail` shows live events as colored lines and stops on
 * Ctrl-C with a summary; `push --count` draws a progress bar that reaches 100%. The screen is read
 * with capture-pane, as a person would see it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { FlashqClient } from 'flashq-ts/client';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { CLI } from './helpers.js';

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

describe('flashq-ts in a terminal', { skip: hasTmux ? false : 'tmux is not installed' }, () => {
  let server: RunningServer;
  let client: FlashqClient;
  const session = `flashq-cli-${process.pid}`;
  /** the pane's text; with escapes (-e) to see colors */
  const screen = (escapes = false) => tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session);
  before(async () => {
    server = await startServer();
    client = new FlashqClient({ port: server.port });
    await client.connect();
    // a plain shell in a fixed-size window; TERM makes programs see a color terminal
    tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', '-e', 'NO_COLOR=', '-e', 'TERM=xterm-256color', 'bash --norc --noprofile');
    tmux('set-option', '-t', session, 'remain-on-exit', 'on');
  });
  after(async () => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // already gone
    }
    await client.close();
    await server.stop();
  });

  test('tail shows live events and stops on Ctrl-C with a summary', async () => {
    tmux('send-keys', '-t', session, `clear; node ${CLI} tail tty-q --port ${server.port} --http-port ${server.httpPort}; echo "exit=$?"`, 'Enter');
    await waitFor(() => screen().includes('following tty-q'), 15_000, 'tail connected');
    const ids: number[] = [];
    await waitFor(async () => {
      ids.push(await client.push('tty-q', { hello: 'terminal' }));
      return screen().includes(`#${ids[0]}`) || ids.some((id) => screen().includes(`#${id}`));
    }, 5000, 'a pushed event on screen');
    const job = await client.pull('tty-q', { timeout: 1000 });
    await client.ack(job!.id);
    await waitFor(() => /completed +tty-q #\d+/.test(screen()), 5000, 'the completed event on screen');
    const text = screen();
    assert.match(text, /\d\d:\d\d:\d\d\.\d{3} pushed +tty-q #\d+ \{"hello":"terminal"\}/);
    // a terminal gets colors: pushed in cyan, completed in green
    const colored = screen(true);
    assert.match(colored, /\x1b\[36mpushed/);
    assert.match(colored, /\x1b\[32mcompleted/);
    tmux('send-keys', '-t', session, 'C-c');
    await waitFor(() => screen().includes('exit=0'), 5000, 'tail exited');
    assert.match(screen(), /\n\d+ event\(s\)\n/);
  });

  test('push --count draws a progress bar on a terminal and none in a pipe', async () => {
    tmux('send-keys', '-t', session, `clear; node ${CLI} push tty-bar '{}' --count 20000 --batch 500 --port ${server.port}; echo "exit=$?"`, 'Enter');
    await waitFor(() => screen().includes('exit='), 60_000, 'push finished');
    const text = screen();
    assert.match(text, /push tty-bar \[█+\] 100% 20000\/20000 [0-9.kM]+\/s/);
    assert.match(text, /pushed 20000 jobs to tty-bar/);
    assert.match(text, /exit=0/);
    assert.equal((await client.listQueues()).find((q) => q.name === 'tty-bar')?.pending, 20000);
    tmux('send-keys', '-t', session, `clear; node ${CLI} push tty-bar '{}' --count 2000 --port ${server.port} 2>&1 | cat; echo "exit=$?"`, 'Enter');
    await waitFor(() => screen().includes('exit='), 60_000, 'piped push finished');
    assert.doesNotMatch(screen(), /█|%/);
    assert.match(screen(), /pushed 2000 jobs to tty-bar/);
  });
});
