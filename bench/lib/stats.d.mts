/** Types of stats.mjs, for the TypeScript benchmarks. */
export function median(values: readonly number[]): number | undefined;
