/**
 * Which live node each partition should live on: the leader's decision, pure and deterministic.
 *
 * Every node ends with ⌊P/n⌋ or ⌈P/n⌉ partitions, and as few partitions as possible change node:
 * the nodes that get the extra partition are those that already hold the most, each node keeps
 * as many of its current partitions as its target allows, and only the surplus and the partitions
 * of nodes no longer live move. So a join moves about P/(n+1) partitions, all onto the new node,
 * and a leave moves only the leaver's.
 *
 * `current[p]` is the node partition p is on now (null: nowhere); the result has one entry per
 * partition, null only when no node is live.
 */
export function assign(current: ReadonlyArray<string | null>, live: Iterable<string>): Array<string | null> {
  const count = current.length;
  const nodes = [...new Set(live)].sort();
  if (nodes.length === 0) return current.map(() => null);
  const held = new Map<string, number[]>(nodes.map((n) => [n, []]));
  const pool: number[] = [];
  for (let p = 0; p < count; p++) {
    const list = held.get(current[p] ?? '');
    if (current[p] !== null && list !== undefined) list.push(p);
    else pool.push(p);
  }
  const base = Math.floor(count / nodes.length);
  let extra = count % nodes.length;
  const target = new Map<string, number>();
  const byLoad = [...nodes].sort((a, b) => held.get(b)!.length - held.get(a)!.length || (a < b ? -1 : 1));
  for (const n of byLoad) target.set(n, base + (extra-- > 0 ? 1 : 0));

  const out: Array<string | null> = new Array<string | null>(count).fill(null);
  for (const n of nodes) {
    const mine = held.get(n)!;
    const keep = Math.min(mine.length, target.get(n)!);
    for (let i = 0; i < mine.length; i++) {
      if (i < keep) out[mine[i]!] = n;
      else pool.push(mine[i]!);
    }
  }
  pool.sort((a, b) => a - b);
  let next = 0;
  for (const n of nodes) {
    for (let have = Math.min(held.get(n)!.length, target.get(n)!); have < target.get(n)!; have++) out[pool[next++]!] = n;
  }
  return out;
}

/** How many partitions change node between two assignments. */
export function moves(before: ReadonlyArray<string | null>, after: ReadonlyArray<string | null>): number {
  let m = 0;
  for (let p = 0; p < after.length; p++) if (before[p] !== after[p]) m++;
  return m;
}
