/**
 * The server page: `GET /api/v1/db/stats` read once a second, as figures (keys, memory against
 * the limit, hits and misses, operations per second, expirations, evictions, persistence) and as
 * small live charts of the last minute (uPlot); and a live tail of the latest changes, from the
 * watch stream (`GET /api/v1/db/watch`, through the client's `watch()`).
 */
import { MemkvClientError, type MemkvClient, type StatsJson, type WatchEvent } from '@memkv/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatBytes, formatCount } from './format.js';

/** Seconds of history the charts keep. */
const HISTORY = 60;
const REFRESH_MS = 1000;

interface Sample {
  /** Epoch seconds. */
  t: number;
  opsPerSecond: number;
  hitsPerSecond: number;
  missesPerSecond: number;
  keys: number;
  dataBytes: number;
}

const totalCommands = (stats: StatsJson): number => Object.values(stats.stats.commands).reduce((sum, n) => sum + n, 0);

export function ServerPage({ client, onError }: { client: MemkvClient; onError: (error: unknown) => string }) {
  const [stats, setStats] = useState<StatsJson | undefined>();
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<string | undefined>();
  const previous = useRef<{ atMs: number; stats: StatsJson } | undefined>(undefined);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await client.stats();
        if (stopped) return;
        const atMs = Date.now();
        const before = previous.current;
        if (before !== undefined) {
          const seconds = Math.max(0.001, (atMs - before.atMs) / 1000);
          const sample: Sample = {
            t: atMs / 1000,
            // The stats call itself is a request but not a store operation: it does not count here.
            opsPerSecond: Math.max(0, totalCommands(next) - totalCommands(before.stats)) / seconds,
            hitsPerSecond: Math.max(0, next.stats.hits - before.stats.stats.hits) / seconds,
            missesPerSecond: Math.max(0, next.stats.misses - before.stats.stats.misses) / seconds,
            keys: next.keyspace.keys,
            dataBytes: next.memory.data_bytes,
          };
          setSamples((list) => [...list.slice(-(HISTORY - 1)), sample]);
        }
        previous.current = { atMs, stats: next };
        setStats(next);
        setError(undefined);
      } catch (caught) {
        if (!stopped) setError(onError(caught));
      }
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client]);

  const last = samples[samples.length - 1];
  const memoryLimit = stats?.memory.max_memory_bytes ?? null;
  const hitRatio = stats === undefined || stats.stats.hits + stats.stats.misses === 0 ? undefined : stats.stats.hits / (stats.stats.hits + stats.stats.misses);
  return (
    <main class="server">
      <p class="muted note">
        Refreshed every second from <code>/api/v1/db/stats</code>; the latest changes come live from <code>/api/v1/db/watch</code>.
      </p>
      {error !== undefined && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {stats !== undefined && (
        <div class="figures">
          <Figure label="Keys" value={formatCount(stats.keyspace.keys)} detail={`${formatCount(stats.keyspace.keys_with_ttl)} with a TTL`} testId="stat-keys" />
          <Figure
            label="Memory"
            value={formatBytes(stats.memory.data_bytes)}
            detail={memoryLimit === null ? `no limit · ${stats.memory.eviction_policy}` : `of ${formatBytes(memoryLimit)} · ${stats.memory.eviction_policy}`}
            meter={memoryLimit === null ? undefined : stats.memory.data_bytes / memoryLimit}
          />
          <Figure label="Operations per second" value={last === undefined ? '…' : formatCount(Math.round(last.opsPerSecond))} detail={`${formatCount(totalCommands(stats))} since start`} testId="stat-ops" />
          <Figure
            label="Hits / misses"
            value={`${formatCount(stats.stats.hits)} / ${formatCount(stats.stats.misses)}`}
            detail={hitRatio === undefined ? 'no reads yet' : `${(hitRatio * 100).toFixed(1)}% hits`}
          />
          <Figure label="Expired / evicted" value={`${formatCount(stats.stats.expired)} / ${formatCount(stats.stats.evicted)}`} detail="keys since start" />
          <Figure label="Process memory" value={formatBytes(stats.memory.rss_bytes)} detail={`up ${formatCount(stats.server.uptime_seconds)} s · memkv ${stats.server.version}`} />
          <Figure
            label="Persistence"
            value={!stats.persistence.enabled ? 'off' : stats.persistence.writable ? 'writing' : 'FAILING'}
            detail={
              stats.persistence.enabled
                ? `log ${formatBytes(stats.persistence.log_bytes)}${stats.persistence.last_fsync_at === null ? '' : ` · fsync ${new Date(stats.persistence.last_fsync_at).toLocaleTimeString()}`}`
                : 'in memory only'
            }
            alert={stats.persistence.enabled && !stats.persistence.writable}
          />
        </div>
      )}
      <div class="charts">
        <Chart
          title="Operations per second"
          samples={samples}
          series={[
            { label: 'ops/s', value: (s) => s.opsPerSecond, color: '--chart-1' },
            { label: 'hits/s', value: (s) => s.hitsPerSecond, color: '--chart-2' },
            { label: 'misses/s', value: (s) => s.missesPerSecond, color: '--chart-3' },
          ]}
        />
        <Chart title="Keys" samples={samples} series={[{ label: 'keys', value: (s) => s.keys, color: '--chart-1' }]} />
        <Chart
          title="Data memory"
          samples={samples}
          series={[{ label: 'bytes', value: (s) => s.dataBytes, color: '--chart-2' }]}
          format={(n) => formatBytes(n)}
        />
      </div>
      <LiveTail client={client} />
    </main>
  );
}

/** Changes the live tail shows, newest first. */
const TAIL_LENGTH = 50;

interface TailEntry {
  id: string;
  atMs: number;
  event: WatchEvent;
}

/**
 * The latest changes to any key, newest first, as the watch stream sends them (the client
 * reconnects and resumes by itself). A server or user that cannot watch says why instead.
 */
function LiveTail({ client }: { client: MemkvClient }) {
  const [entries, setEntries] = useState<TailEntry[]>([]);
  const [unavailable, setUnavailable] = useState<string | undefined>();

  useEffect(() => {
    const stop = new AbortController();
    void (async () => {
      try {
        for await (const event of client.watch({ signal: stop.signal })) {
          setEntries((list) => [{ id: event.id, atMs: Date.now(), event }, ...list.slice(0, TAIL_LENGTH - 1)]);
        }
      } catch (caught) {
        if (stop.signal.aborted) return;
        // Watch off (WATCH_HISTORY=0), a Redis Cluster, or a user without the read right on every key.
        setUnavailable(caught instanceof MemkvClientError ? caught.message : String(caught));
      }
    })();
    return () => stop.abort();
  }, [client]);

  return (
    <section class="card tail" aria-label="Latest changes">
      <h3>Latest changes</h3>
      {unavailable !== undefined ? (
        <p class="muted" role="status">
          No live changes: {unavailable}
        </p>
      ) : entries.length === 0 ? (
        <p class="muted">Waiting for the next change…</p>
      ) : (
        <ol class="tail-list" data-testid="tail">
          {entries.map(({ id, atMs, event }) => (
            <li key={id}>
              <time>{new Date(atMs).toLocaleTimeString()}</time> <span class={`op op-${event.op}`}>{event.op}</span>{' '}
              <code>{'key' in event ? event.key : 'every key'}</code> <span class="muted">{describe(event)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** What a change did, in a few words. */
function describe(event: WatchEvent): string {
  switch (event.op) {
    case 'push':
      return `+${event.values.length} · length ${event.row.length} · version ${event.revision}`;
    case 'pop':
      return `popped ${JSON.stringify(event.popped)} · length ${event.row.length} · version ${event.revision}`;
    case 'set':
    case 'update':
    case 'ttl':
      return `${event.row.kind === 'string' ? 'string' : `list of ${event.row.value.length}`} · version ${event.revision}`;
    default:
      return `version ${event.revision}`;
  }
}

function Figure(props: { label: string; value: string; detail: string; meter?: number | undefined; alert?: boolean; testId?: string }) {
  return (
    <section class={`card figure${props.alert === true ? ' alert' : ''}`} aria-label={props.label} data-testid={props.testId}>
      <h3>{props.label}</h3>
      <p class="value">{props.value}</p>
      {props.meter !== undefined && <meter min={0} max={1} high={0.9} value={Math.min(1, props.meter)} />}
      <p class="muted">{props.detail}</p>
    </section>
  );
}

interface SeriesSpec {
  label: string;
  value: (sample: Sample) => number;
  /** A CSS custom property holding the line's color, so the charts follow the theme. */
  color: string;
}

function Chart({ title, samples, series, format }: { title: string; samples: Sample[]; series: SeriesSpec[]; format?: (n: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const element = box.current!;
    const css = getComputedStyle(element);
    const axis = { stroke: css.getPropertyValue('--muted').trim(), grid: { stroke: css.getPropertyValue('--line').trim(), width: 1 } };
    const options: uPlot.Options = {
      width: Math.max(240, element.clientWidth),
      height: 160,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max, min)] } },
      axes: [axis, { ...axis, size: 64, values: (_u, ticks) => ticks.map((n) => (format === undefined ? formatCount(n) : format(n))) }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: css.getPropertyValue(s.color).trim(), width: 2 }))],
    };
    plot.current = new uPlot(options, [[], ...series.map(() => [])], element);
    const resize = () => plot.current?.setSize({ width: Math.max(240, element.clientWidth), height: 160 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
    };
  }, []);

  useEffect(() => {
    plot.current?.setData([samples.map((s) => s.t), ...series.map((spec) => samples.map(spec.value))]);
  }, [samples]);

  return (
    <figure class="card chart">
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
