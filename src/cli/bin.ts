#!/usr/bin/env node
/** The `memkv` executable: runs the command line and sets the exit code (after `serve`, the server keeps running). */
import { runCli } from './run-cli.js';

// Ctrl-C ends `memkv watch` cleanly (exit 0), a second one at once; other commands keep Node's default.
const stop = new AbortController();
if (process.argv[2] === 'watch') {
  process.once('SIGINT', () => {
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  });
}
const result = await runCli(
  process.argv.slice(2),
  {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  },
  undefined,
  undefined,
  stop.signal,
);
if (result !== 'serving') process.exitCode = result;
