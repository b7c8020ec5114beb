/** Moved to src/cli/bench/stats.ts (shared with the CLI's bench). */
export * from '../../src/cli/bench/stats.js';
