/**
 * Watch fan-out: SET throughput of the real server (dist/main.js) under wrk, without watchers and
 * with `--watchers` watchers (default 100) on the prefix every SET writes under, and the event lag
 * meanwhile. The lag is measured from the start of a probe write (a SET of `s-probe` sent every
 * 20 ms by this process beside the wrk load, holding its start time) to the arrival of its event
 * at each watcher: write-start to arrival, one sample per probe per watcher. The watchers are raw
 * HTTP/1.0 connections in this process that only look for the probe's events in what they read
 * (everything else is read and dropped), so the figure is the server's fan-out, not a parser's.
 *
 * Prints one JSON object (figures are medians over `--runs`); bench/run.mjs shows it in its table.
 *
 * Usage: node bench/watch.mjs [--runs 1] [--duration 5] [--watchers 100] [--connections 50] [--keys 100000]
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { installCleanup, stopAll } from './lib/processes.mjs';
import { median } from './lib/stats.mjs';
import { startMemkvServer } from './lib/targets.mjs';
import { runWrk } from './lib/wrk.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    duration: { type: 'string', default: '5' },
    watchers: { type: 'string', default: '100' },
    connections: { type: 'string', default: '50' },
    keys: { type: 'string', default: '100000' },
  },
});
const RUNS = whole(args.runs, 'runs');
const SECONDS = whole(args.duration, 'duration');
const WATCHERS = whole(args.watchers, 'watchers');
const CONNECTIONS = whole(args.connections, 'connections');
const KEYS = whole(args.keys, 'keys');
/** The key the probes write: under the prefix `s` that wrk's SETs (s0 … sN) and the watchers share. */
const PROBE_KEY = 's-probe';
const PROBE_EVERY_MS = 20;
const MARKER = Buffer.from('"value":"probe:');

installCleanup();
try {
  const server = await startMemkvServer({ env: { VERBOSE: 'warn' } });
  const load = { port: server.port, target: 'memkv', op: 'set', keys: KEYS, connections: CONNECTIONS };
  await runWrk({ ...load, seconds: 1 }); // warm-up
  const without = [];
  const withWatchers = [];
  const lagsMs = [];
  let cutOff = 0;
  let probesSent = 0;
  let probesSeen = 0;
  for (let run = 0; run < RUNS; run++) {
    without.push((await runWrk({ ...load, seconds: SECONDS })).rps);
    const fanOut = await openWatchers(server.port, WATCHERS);
    const probes = startProbes(server.port);
    withWatchers.push((await runWrk({ ...load, seconds: SECONDS })).rps);
    await probes.stop();
    // Events still on their way count too: wait a little for the last probes.
    await new Promise((resolve) => setTimeout(resolve, 500));
    fanOut.close();
    for (const watcher of fanOut.watchers) {
      for (const [seq, arrivedNs] of watcher.arrivals) {
        const startNs = probes.startedNs.get(seq);
        if (startNs !== undefined) lagsMs.push(Number(arrivedNs - startNs) / 1e6);
      }
      cutOff += watcher.cutOff;
      probesSeen += watcher.arrivals.size;
    }
    probesSent += probes.startedNs.size;
  }
  lagsMs.sort((a, b) => a - b);
  const at = (p) => (lagsMs.length === 0 ? NaN : lagsMs[Math.min(lagsMs.length - 1, Math.floor((p / 100) * lagsMs.length))]);
  await server.stop();
  process.stdout.write(
    `${JSON.stringify({
      watchers: WATCHERS,
      setRpsWithout: median(without),
      setRpsWith: median(withWatchers),
      // Median of the runs' with/without ratios: each pair ran back to back.
      ratio: median(withWatchers.map((rps, i) => rps / without[i])),
      lagP50Ms: at(50),
      lagP99Ms: at(99),
      lagMaxMs: lagsMs.at(-1) ?? NaN,
      lagSamples: lagsMs.length,
      probesSent,
      // Probe events that reached a watcher, of probes × watchers: below 1 when watchers were cut off.
      probeDelivery: probesSent === 0 ? NaN : probesSeen / (probesSent * WATCHERS),
      cutOff,
    })}\n`,
  );
} finally {
  await stopAll();
}

/** `count` watchers of prefix `s`, each a raw connection that records when each probe's event arrives. */
async function openWatchers(port, count) {
  const watchers = [];
  for (let i = 0; i < count; i++) watchers.push(openWatcher(port));
  await Promise.all(watchers.map((watcher) => watcher.ready));
  return {
    watchers,
    close: () => {
      for (const watcher of watchers) watcher.close();
    },
  };
}

function openWatcher(port) {
  const watcher = { arrivals: new Map(), cutOff: 0, ready: undefined, close: undefined };
  let socket;
  let closing = false;
  let tail = Buffer.alloc(0);
  const open = () =>
    new Promise((resolve) => {
      socket = connect(port, '127.0.0.1', () => socket.write('GET /api/v1/db/watch?prefix=s HTTP/1.0\r\n\r\n'));
      let started = false;
      socket.on('data', (chunk) => {
        const nowNs = process.hrtime.bigint();
        if (!started) {
          started = true;
          resolve();
        }
        // The marker may straddle two chunks: search the end of the last one with the start of this one.
        const seam = Buffer.concat([tail, chunk.subarray(0, 64)]);
        scan(seam, nowNs, tail.length);
        scan(chunk, nowNs, 0);
        tail = chunk.subarray(Math.max(0, chunk.length - 64));
        if (chunk.includes('event: error')) watcher.cutOff++;
      });
      socket.on('error', () => {});
      // Cut off (it did not keep up) or closed: watch again, from now.
      socket.on('close', () => {
        if (!closing) void open();
      });
    });
  const scan = (buffer, nowNs, minimumEnd) => {
    for (let at = buffer.indexOf(MARKER); at >= 0; at = buffer.indexOf(MARKER, at + 1)) {
      const start = at + MARKER.length;
      const end = buffer.indexOf(0x22, start); // the closing quote
      if (end < 0 || end <= minimumEnd) continue;
      const seq = Number(buffer.toString('latin1', start, end));
      if (Number.isInteger(seq) && !watcher.arrivals.has(seq)) watcher.arrivals.set(seq, nowNs);
    }
  };
  watcher.ready = open();
  watcher.close = () => {
    closing = true;
    socket.destroy();
  };
  return watcher;
}

/** Writes the probe key every PROBE_EVERY_MS on one keep-alive connection, remembering when each write started. */
function startProbes(port) {
  const startedNs = new Map();
  let seq = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const body = JSON.stringify({ key: PROBE_KEY, value: `probe:${++seq}` });
      startedNs.set(seq, process.hrtime.bigint());
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  })();
  return {
    startedNs,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

function whole(text, name) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number >= 1`);
  return value;
}
