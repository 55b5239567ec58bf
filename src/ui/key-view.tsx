/**
 * One key: its kind, value (a string as text, or pretty-printed when it is JSON; a list a page at a
 * time through the range route, so a long list is never fetched whole), TTL with a live countdown,
 * creation and update times; and for users who may write: edit, push, pop, TTL, delete. Also the
 * form that creates a key.
 */
import { WrongTypeError, type MemkvClient } from '@memkv/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatCount, formatRemaining, formatTime, formattedJson } from './format.js';
import type { PageProps } from './key-browser.js';

/** List elements per page. */
const LIST_PAGE = 50;

interface Times {
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

type Shown =
  | { kind: 'missing' }
  | ({ kind: 'string'; value: string } & Times)
  | ({ kind: 'list'; items: string[]; start: number; length: number } & Times);

/** Reads a key: a page of it when it is a list (`range`), the value when it is a string (`get`). */
async function read(client: MemkvClient, key: string, start: number): Promise<Shown> {
  try {
    const slice = await client.range(key, start, start + LIST_PAGE - 1);
    if (slice === null) return { kind: 'missing' };
    return { kind: 'list', items: slice.value, start, length: slice.length, ...times(slice) };
  } catch (error) {
    if (!(error instanceof WrongTypeError)) throw error;
  }
  const row = await client.get(key);
  if (row === null) return { kind: 'missing' };
  if (row.kind !== 'string') return read(client, key, start); // replaced by a list meanwhile
  return { kind: 'string', value: row.value, ...times(row) };
}

const times = ({ expiresAt, createdAt, updatedAt }: Times): Times => ({ expiresAt, createdAt, updatedAt });

export function KeyView({ client, onError, keyName, canWrite, onDeleted }: PageProps & { keyName: string; canWrite: boolean; onDeleted: () => void }) {
  const [shown, setShown] = useState<Shown | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [draft, setDraft] = useState('');
  const [pushValue, setPushValue] = useState('');
  const [ttl, setTtl] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());

  const load = async (start = 0) => {
    try {
      const next = await read(client, keyName, start);
      setShown(next);
      if (next.kind === 'string') setDraft(next.value);
    } catch (caught) {
      setError(onError(caught));
    }
  };

  useEffect(() => {
    void load();
  }, [keyName]);

  // On a narrow screen the key is below the listing: bring it into view when it opens.
  const top = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (matchMedia('(max-width: 760px)').matches) top.current?.scrollIntoView({ block: 'start' });
  }, [keyName]);

  // The countdown: once a second while the key has a TTL; at zero the key is read again (gone).
  const expiresAtMs = shown !== undefined && shown.kind !== 'missing' ? shown.expiresAt?.getTime() : undefined;
  useEffect(() => {
    if (expiresAtMs === undefined) return;
    const timer = setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= expiresAtMs + 1000) void load();
    }, 1000);
    return () => clearInterval(timer);
  }, [expiresAtMs]);

  /** Runs a write, shows its outcome, and reads the key again. */
  const act = async (write: () => Promise<string | void>, start?: number) => {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      const message = await write();
      if (message !== undefined) setNotice(message);
      await load(start ?? (shown?.kind === 'list' ? shown.start : 0));
    } catch (caught) {
      setError(onError(caught));
    } finally {
      setBusy(false);
    }
  };

  const header = (
    <h2 class="key-title" ref={top}>
      <code>{keyName}</code>
    </h2>
  );
  if (shown === undefined) {
    return (
      <div>
        {header}
        {error !== undefined ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </div>
    );
  }
  if (shown.kind === 'missing') {
    return (
      <div>
        {header}
        <p role="status">This key does not exist (or has expired).</p>
      </div>
    );
  }

  const json = shown.kind === 'string' ? formattedJson(shown.value) : undefined;
  return (
    <div class="key-view">
      {header}
      <dl class="facts">
        <dt>Kind</dt>
        <dd>
          <span class="badge">{shown.kind === 'string' ? 'string' : 'list'}</span>
          {shown.kind === 'list' && ` ${formatCount(shown.length)} elements`}
          {json !== undefined && ' (JSON)'}
        </dd>
        <dt>TTL</dt>
        <dd data-testid="ttl">
          {shown.expiresAt === null ? (
            'never expires'
          ) : (
            <span title={shown.expiresAt.toISOString()}>expires in {formatRemaining(shown.expiresAt.getTime() - now)}</span>
          )}
        </dd>
        <dt>Created</dt>
        <dd title={shown.createdAt.toISOString()}>{formatTime(shown.createdAt)}</dd>
        <dt>Updated</dt>
        <dd title={shown.updatedAt.toISOString()}>{formatTime(shown.updatedAt)}</dd>
      </dl>

      {error !== undefined && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {notice !== undefined && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}

      {shown.kind === 'string' && (
        <section aria-label="String value">
          {json !== undefined && (
            <pre class="json" aria-label="Formatted JSON">
              {json}
            </pre>
          )}
          {canWrite ? (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                void act(async () => {
                  await client.update(keyName, draft);
                  return 'Saved.';
                });
              }}
            >
              <label>
                Value
                <textarea name="value" rows={json === undefined ? 4 : 8} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
              </label>
              <button type="submit" class="primary" disabled={busy || draft === shown.value}>
                Save
              </button>
            </form>
          ) : (
            json === undefined && <pre class="value" aria-label="Value">{shown.value}</pre>
          )}
        </section>
      )}

      {shown.kind === 'list' && (
        <section aria-label="Elements">
          <ol class="items" start={shown.start}>
            {shown.items.map((item, i) => (
              <li key={shown.start + i}>
                <span class="index">{shown.start + i}</span>
                <span class="item">{item}</span>
              </li>
            ))}
          </ol>
          {shown.length > LIST_PAGE && (
            <div class="pager">
              <button disabled={shown.start === 0} onClick={() => void load(Math.max(0, shown.start - LIST_PAGE))}>
                Previous
              </button>
              <span>
                {formatCount(shown.start)}–{formatCount(Math.min(shown.length, shown.start + LIST_PAGE) - 1)} of {formatCount(shown.length)}
              </span>
              <button disabled={shown.start + LIST_PAGE >= shown.length} onClick={() => void load(shown.start + LIST_PAGE)}>
                Next
              </button>
            </div>
          )}
          {canWrite && (
            <form
              class="inline"
              onSubmit={(event) => {
                event.preventDefault();
                void act(async () => {
                  const row = await client.push(keyName, pushValue, { minimal: true });
                  setPushValue('');
                  return `Pushed; the list has ${formatCount(row.length)} elements.`;
                }, Math.max(0, Math.floor(shown.length / LIST_PAGE) * LIST_PAGE));
              }}
            >
              <label class="grow">
                Element to push
                <input name="push" value={pushValue} onInput={(e) => setPushValue(e.currentTarget.value)} />
              </label>
              <button type="submit" disabled={busy}>
                Push
              </button>
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  void act(async () => {
                    const row = await client.pop(keyName, { minimal: true });
                    return `Popped "${row.popped}".`;
                  })
                }
              >
                Pop
              </button>
            </form>
          )}
        </section>
      )}

      {canWrite && (
        <section aria-label="Expiry and removal" class="ttl-controls">
          <form
            class="inline"
            onSubmit={(event) => {
              event.preventDefault();
              void act(async () => {
                await client.setTtl(keyName, ttl.trim());
                setTtl('');
                return 'TTL set.';
              });
            }}
          >
            <label class="grow">
              New TTL
              <input name="ttl" placeholder="1h30m" required value={ttl} onInput={(e) => setTtl(e.currentTarget.value)} />
            </label>
            <button type="submit" disabled={busy}>
              Set TTL
            </button>
            <button
              type="button"
              disabled={busy || shown.expiresAt === null}
              onClick={() =>
                void act(async () => {
                  await client.setTtl(keyName, null);
                  return 'TTL removed: the key never expires.';
                })
              }
            >
              Remove TTL
            </button>
          </form>
          <div class="inline">
            {confirmDelete ? (
              <>
                <span>Delete this key?</span>
                <button
                  class="danger"
                  disabled={busy}
                  onClick={async () => {
                    setBusy(true);
                    try {
                      await client.remove(keyName);
                      onDeleted();
                    } catch (caught) {
                      setError(onError(caught));
                      setBusy(false);
                    }
                  }}
                >
                  Yes, delete
                </button>
                <button onClick={() => setConfirmDelete(false)}>Keep</button>
              </>
            ) : (
              <button class="danger" onClick={() => setConfirmDelete(true)}>
                Delete key
              </button>
            )}
          </div>
        </section>
      )}
    </div>
  );
}

/** The form for a new key: name, kind, value (a list: one element per line) and an optional TTL. */
export function CreateKey({ client, onError, initialKey, onCreated }: PageProps & { initialKey: string; onCreated: (key: string) => void }) {
  const [key, setKey] = useState(initialKey);
  const [kind, setKind] = useState<'string' | 'list'>('string');
  const [value, setValue] = useState('');
  const [ttl, setTtl] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if ((await client.get(key)) !== null) throw new Error(`the key "${key}" already exists: open it to change it`);
      const stored = kind === 'string' ? value : value.split('\n').filter((line) => line !== '');
      await client.set(key, stored, ttl.trim() === '' ? {} : { ttl: ttl.trim() });
      onCreated(key);
    } catch (caught) {
      setError(onError(caught));
      setBusy(false);
    }
  };

  return (
    <form class="create" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">New key</h2>
      <label>
        Key
        <input name="new-key" required value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>Kind</legend>
        <label class="choice">
          <input type="radio" name="kind" value="string" checked={kind === 'string'} onChange={() => setKind('string')} /> String
        </label>
        <label class="choice">
          <input type="radio" name="kind" value="list" checked={kind === 'list'} onChange={() => setKind('list')} /> List
        </label>
      </fieldset>
      <label>
        {kind === 'string' ? 'Value' : 'Elements, one per line'}
        <textarea name="new-value" rows={5} value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <label>
        TTL (optional)
        <input name="new-ttl" placeholder="e.g. 10m; empty: the server's default" value={ttl} onInput={(e) => setTtl(e.currentTarget.value)} />
      </label>
      {error !== undefined && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy || key === ''}>
        Create
      </button>
    </form>
  );
}
