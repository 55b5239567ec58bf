/**
 * `npm start`: builds when the build is stale (scripts/build-if-stale.mjs), then runs the built
 * server in this same process, which saves starting a second Node.js just for the check.
 */
import { buildIfStale } from './build-if-stale.mjs';

const code = buildIfStale();
if (code !== 0) process.exit(code);
const { runServer } = await import('../dist/main.js');
await runServer();
