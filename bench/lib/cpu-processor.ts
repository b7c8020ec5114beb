/**
 * The CPU-bound handler of bench/sandbox.ts, the same function in-thread and as a sandboxed
 * processor (its default export): a fixed amount of arithmetic per job, no I/O.
 */
export default function cpuWork(job: { data: { iterations: number } }): number {
  let x = 1;
  for (let i = 0; i < job.data.iterations; i++) x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
  return x;
}
