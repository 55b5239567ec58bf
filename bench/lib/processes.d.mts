/** Types of the part of processes.mjs that the TypeScript benchmarks use. */
import type { ChildProcess } from 'node:child_process';

export function has(command: string): Promise<boolean>;
export function installCleanup(): void;
export function removeAtExit(dir: string): void;
export function freePort(): Promise<number>;
export function start(command: string, args: readonly string[], options?: { env?: NodeJS.ProcessEnv }): ChildProcess & { output: string };
export function stop(child: ChildProcess, graceMs?: number): Promise<void>;
export function waitForPort(port: number, timeoutMs?: number, child?: ChildProcess): Promise<void>;
export function waitForMemkv(port: number, timeoutMs?: number, child?: ChildProcess): Promise<void>;
