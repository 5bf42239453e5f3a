// Timing for the benches: wall-clock medians of repeated calls.
import { performance } from "node:perf_hooks";

/** The median milliseconds of `runs` calls of `run`, after `warmups` calls that are not counted. */
export async function medianMs(run: () => Promise<unknown>, runs: number, warmups = 0): Promise<number> {
  for (let i = 0; i < warmups; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}
