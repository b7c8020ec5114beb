/** Moved to src/cli/bench/delivery.ts (the CLI's bench checks delivery the same way). */
export * from '../../src/cli/bench/delivery.js';
