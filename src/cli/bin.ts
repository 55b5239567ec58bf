#!/usr/bin/env node
/** The `memkv` executable: runs the command line and sets the exit code (after `serve`, the server keeps running). */
import { runCli } from './run-cli.js';

const result = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
if (result !== 'serving') process.exitCode = result;
