import { errors } from './errors.js';

/**
 * Private stand-in for the engine's `validateQueueName` (src/engine/names.ts), same rule:
 * 1..256 characters, each an ASCII letter, digit, `_`, `-` or `.`. The lead will point the
 * decoders at the engine's copy once it exists.
 */
export const MAX_QUEUE_NAME = 256;

export function validateQueueName(name: string): void {
  const n = name.length;
  if (n === 0 || n > MAX_QUEUE_NAME) throw errors.invalidQueueName(name);
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    // a-z, A-Z, 0-9, '_', '-', '.'
    if (
      !((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46)
    ) {
      throw errors.invalidQueueName(name);
    }
  }
}
