import { errors } from '../base/errors.js';

const NAME = /^[A-Za-z0-9_.-]{1,256}$/;

export const MAX_NAME_LENGTH = 256;

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** Queue names: 1..256 letters, digits, `_`, `-`, `.` (shared with the protocol layer). */
export function validateQueueName(name: unknown): asserts name is string {
  if (!isValidName(name)) throw errors.invalidQueueName(typeof name === 'string' ? name : String(name));
}
