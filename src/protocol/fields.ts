import { errors, type FlashqError } from '../base/errors.js';
import type { JobFilterState } from '../engine/types.js';

/**
 * Typed readers of request fields with errors that name the field, e.g.
 * `Invalid field "jobs[3].priority": expected an integer`. `index` >= 0 means the field belongs to
 * the index-th job of a batch; the field name is only built when an error is thrown.
 * `undefined` and `null` both mean "not given" for optional fields.
 */

export type Obj = Record<string, unknown>;

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
export const UINT32_MAX = 4294967295;
/** cron names and schedules (compat.md: schedules up to 256 characters) */
export const MAX_CRON_TEXT = 256;

export function fieldName(key: string, index: number): string {
  return index < 0 ? key : `jobs[${index}]${key === '' ? '' : '.' + key}`;
}

export function invalidField(key: string, index: number, problem: string): FlashqError {
  return errors.badRequest(`Invalid field "${fieldName(key, index)}": ${problem}`);
}

export function missingField(key: string, index: number): FlashqError {
  return errors.badRequest(`Missing field "${fieldName(key, index)}"`);
}

/** A lookup table without a prototype, so keys like "constructor" miss. */
export function lookup<T>(entries: Record<string, T>): Record<string, T | undefined> {
  return Object.assign(Object.create(null) as Record<string, T | undefined>, entries);
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkInt(v: unknown, key: string, index: number, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidField(key, index, 'expected an integer');
  if (v < min || v > max) throw invalidField(key, index, `out of range (${min}..${max})`);
  return v;
}

export function reqInt(v: unknown, key: string, index: number, min: number, max: number): number {
  if (v === undefined || v === null) throw missingField(key, index);
  return checkInt(v, key, index, min, max);
}

export function optInt<D extends number | null>(v: unknown, key: string, index: number, min: number, max: number, def: D): number | D {
  return v === undefined || v === null ? def : checkInt(v, key, index, min, max);
}

export function reqId(v: unknown, key = 'id'): number {
  return reqInt(v, key, -1, 1, MAX_SAFE);
}

export function optStr(v: unknown, key: string, index: number): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw invalidField(key, index, 'expected a string');
  return v;
}

export function reqStr(v: unknown, key: string, index: number): string {
  if (v === undefined || v === null) throw missingField(key, index);
  if (typeof v !== 'string') throw invalidField(key, index, 'expected a string');
  return v;
}

export function optBool(v: unknown, key: string, index: number, def: boolean): boolean {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') throw invalidField(key, index, 'expected a boolean');
  return v;
}

/**
 * Shared by every decoded job without the field, so absent lists cost no allocation.
 * Frozen: consumers must never mutate a JobInput's lists.
 */
export const NO_IDS: number[] = Object.freeze([]) as unknown as number[];
export const NO_TAGS: string[] = Object.freeze([]) as unknown as string[];

/** A list of positive ids (depends_on, ACKB ids); null/absent gives NO_IDS. */
export function idList(v: unknown, key: string, index: number, max: number, tooMany: () => FlashqError): number[] {
  if (v === undefined || v === null) return NO_IDS;
  if (!Array.isArray(v)) throw invalidField(key, index, 'expected an array');
  const n = v.length;
  if (n === 0) return NO_IDS;
  if (n > max) throw tooMany();
  for (let k = 0; k < n; k++) {
    const id: unknown = v[k];
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
      throw invalidField(`${key}[${k}]`, index, 'expected a positive integer');
    }
  }
  return v as number[];
}

export function strList(v: unknown, key: string, index: number): string[] {
  if (v === undefined || v === null) return NO_TAGS;
  if (!Array.isArray(v)) throw invalidField(key, index, 'expected an array');
  const n = v.length;
  if (n === 0) return NO_TAGS;
  for (let k = 0; k < n; k++) {
    if (typeof v[k] !== 'string') throw invalidField(`${key}[${k}]`, index, 'expected a string');
  }
  return v as string[];
}

const FILTER_STATES = lookup<JobFilterState>({
  waiting: 'waiting',
  delayed: 'delayed',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
  'waiting-children': 'waiting-children',
  waitingchildren: 'waiting-children',
});

export function optFilterState(v: unknown, key: string): JobFilterState | null {
  if (v === undefined || v === null) return null;
  const s = typeof v === 'string' ? FILTER_STATES[v] : undefined;
  if (s === undefined) {
    throw invalidField(key, -1, 'expected one of waiting, delayed, active, completed, failed, waiting-children');
  }
  return s;
}

/** A cron name: 1..256 characters. */
export function cronName(v: unknown): string {
  const name = reqStr(v, 'name', -1);
  if (name.length === 0 || name.length > MAX_CRON_TEXT) throw invalidField('name', -1, `expected 1..${MAX_CRON_TEXT} characters`);
  return name;
}

export function cronSchedule(v: unknown): string {
  const schedule = reqStr(v, 'schedule', -1);
  if (schedule.length > MAX_CRON_TEXT) throw errors.invalidCron(`longer than ${MAX_CRON_TEXT} characters`);
  return schedule;
}
