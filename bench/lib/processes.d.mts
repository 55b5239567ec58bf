/** Types of the part of processes.mjs that the TypeScript benchmarks use. */
export function has(command: string): Promise<boolean>;
