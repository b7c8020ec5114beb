import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CronExpressionParser } from 'cron-parser';

/**
 * The page's pure modules (number formats, the cron preview), loaded as the browser loads them:
 * the compiled files of dist/dashboard/js. The preview is checked against cron-parser, the
 * library the server schedules with.
 */
const js = new URL('../../dashboard/js/', import.meta.url);

interface FormatModule {
  compact(n: number): string;
  rate(n: number): string;
  duration(ms: number): string;
}
interface CronModule {
  parseSchedule(expr: string): { next(after: number, count: number): number[] };
  CronSyntaxError: new (...a: unknown[]) => Error;
  CronUnsupportedError: new (...a: unknown[]) => Error;
}

const format = (await import(new URL('format.js', js).href)) as FormatModule;
const cron = (await import(new URL('cron.js', js).href)) as CronModule;

describe('dashboard number formats', () => {
  test('large counts stay short: 1.2M, 340k, 999, 1k', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [999, '999'],
      [1000, '1k'],
      [1234, '1.2k'],
      [12_345, '12.3k'],
      [340_123, '340k'],
      [999_950, '1M'],
      [1_234_567, '1.2M'],
      [2_500_000_000, '2.5B'],
      [-4200, '-4.2k'],
      [1.5, '1.5'],
    ];
    for (const [n, want] of cases) assert.equal(format.compact(n), want, String(n));
    assert.equal(format.rate(340_000), '340k/s');
    assert.equal(format.rate(1500.5), '1.5k/s');
  });

  test('durations pick their unit', () => {
    assert.equal(format.duration(0.25), '250 µs');
    assert.equal(format.duration(45.2), '45 ms');
    assert.equal(format.duration(1234), '1.2 s');
    assert.equal(format.duration(204_000), '3.4 min');
  });
});

describe('dashboard cron preview', () => {
  const schedules = [
    '0 0 3 * * *',
    '*/15 * * * * *',
    '0 */5 * * * *',
    '0 30 9 * * 1-5',
    '0 0 0 1 * *',
    '0 0 12 13 * 5',
    '30 15 10 * JAN,JUL MON-FRI',
    '0 0 0 29 2 *',
    '5 4 * * *',
    '0 0 8-18/2 * * 6,7',
    '0 0 0 L * *',
  ];
  const starts = [Date.UTC(2026, 0, 1, 0, 0, 0), Date.UTC(2026, 11, 31, 23, 59, 59, 500), Date.UTC(2027, 1, 27, 13, 7, 3)];

  for (const expr of schedules) {
    test(`"${expr}" previews the runs the server's parser computes`, (t) => {
      let preview: ReturnType<CronModule['parseSchedule']>;
      try {
        preview = cron.parseSchedule(expr);
      } catch (e) {
        // the preview declines a form it does not compute, never guesses it
        assert.ok(e instanceof cron.CronUnsupportedError, `${expr}: ${String(e)}`);
        t.diagnostic('no preview (server-only form)');
        return;
      }
      for (const start of starts) {
        const it = CronExpressionParser.parse(expr, { currentDate: new Date(start), tz: 'UTC' });
        const want = Array.from({ length: 6 }, () => it.next().getTime());
        assert.deepEqual(preview.next(start, 6), want, `${expr} after ${new Date(start).toISOString()}`);
      }
    });
  }

  test('"*/N" alone is every N seconds from now, as the server runs it', () => {
    assert.deepEqual(cron.parseSchedule('*/30').next(1_000_500, 3), [1_030_500, 1_060_500, 1_090_500]);
  });

  test('wrong schedules say why', () => {
    for (const [expr, words] of [
      ['', 'empty'],
      ['* * *', 'expected 5 or 6 fields'],
      ['61 * * * * *', 'out of range'],
      ['0 0 25 * * *', 'out of range'],
      ['0 0 5-1 * * *', 'backwards'],
      ['0 0 0 * * FOO', 'not a valid'],
      ['0 */0 * * * *', 'bad step'],
      ['*/0', 'interval of 0'],
    ] as const) {
      assert.throws(() => cron.parseSchedule(expr), (e: Error) => e instanceof cron.CronSyntaxError && e.message.includes(words), expr);
    }
  });
});
