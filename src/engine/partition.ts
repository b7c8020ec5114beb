import { PARTITIONS } from './types.js';

/**
 * FNV-1a 32-bit over the name's char codes, mod PARTITIONS. The front hashes the raw bytes of the
 * name the same way; valid names are ASCII, so char codes and bytes agree.
 */
export function partitionOf(queue: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < queue.length; i++) {
    h ^= queue.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PARTITIONS;
}

/** Ids route themselves: the low "digit" in base PARTITIONS is the partition. */
export function jobIdOf(seq: number, partition: number): number {
  return seq * PARTITIONS + partition;
}

export function partitionOfId(id: number): number {
  return id % PARTITIONS;
}

/** The per-partition sequence number of an id (ids stay below 2^53, so this is exact). */
export function seqOfId(id: number): number {
  return (id - (id % PARTITIONS)) / PARTITIONS;
}
