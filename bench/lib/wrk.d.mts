/** Types of wrk.mjs, for the TypeScript benchmarks. */
export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers plus socket errors. */
  errors: number;
}

export function runWrk(options: {
  port: number;
  target: 'memkv' | 'webdis';
  op: 'get' | 'set' | 'push' | 'pop';
  keys: number;
  seconds: number;
  connections?: number;
  cpus?: string;
}): Promise<WrkResult>;

export function parseWrk(output: string): WrkResult;
