/**
 * The key browser: a cursor-paged listing of the keys under a prefix, grouped into a tree by a
 * separator through the listing's `delimiter=` (the server counts each page's keys per next-level
 * prefix; the page adds the counts up as it loads more pages, and never asks for every key). Beside
 * it, the open key or the form for a new one, and the bulk delete by prefix.
 */
import type { MemkvClient } from '@memkv/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { navigate } from './app.js';
import { BulkDelete } from './bulk-delete.js';
import { formatCount } from './format.js';
import { CreateKey, KeyView } from './key-view.js';

/** Keys asked per listing call. */
const PAGE_KEYS = 200;
/** Most calls one "load" makes while the pages come back empty (a rare prefix in a large keyspace). */
const MAX_CALLS_PER_LOAD = 20;
const SEPARATOR_KEY = 'memkv.dashboard.separator';

export interface PageProps {
  client: MemkvClient;
  /** Reports an error (the shell logs out on an ended session) and returns its readable text. */
  onError: (error: unknown) => string;
}

interface Listing {
  prefix: string;
  separator: string;
  keys: string[];
  /** Next-level prefixes and their counts so far (complete once `cursor` is null). */
  groups: Map<string, number>;
  cursor: string | null;
  calls: number;
}

export function KeyBrowser(props: PageProps & { canWrite: boolean; isAdmin: boolean; openKey: string | undefined; creating: boolean }) {
  const { client, onError, canWrite, isAdmin, openKey, creating } = props;
  const [prefix, setPrefix] = useState('');
  const [separator, setSeparator] = useState(() => localStorage.getItem(SEPARATOR_KEY) ?? ':');
  const [listing, setListing] = useState<Listing | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  const [bulkOpen, setBulkOpen] = useState(false);
  const generation = useRef(0);

  /** Loads pages from `from` until one brings an entry, the listing ends, or the call budget is spent. */
  const load = async (from: Listing) => {
    const mine = generation.current;
    setLoading(true);
    setError(undefined);
    let current = from;
    try {
      for (let calls = 0; calls < MAX_CALLS_PER_LOAD; calls++) {
        const page = await client.listKeys({
          prefix: current.prefix,
          delimiter: current.separator === '' ? undefined : current.separator,
          cursor: current.cursor ?? undefined,
          limit: PAGE_KEYS,
        });
        const groups = new Map(current.groups);
        for (const { prefix: group, keys } of page.prefixes ?? []) groups.set(group, (groups.get(group) ?? 0) + keys);
        current = { ...current, keys: [...current.keys, ...page.keys], groups, cursor: page.cursor, calls: current.calls + 1 };
        if (mine !== generation.current) return;
        setListing(current);
        const found = page.keys.length + (page.prefixes?.length ?? 0);
        if (page.cursor === null || found > 0) break;
      }
    } catch (caught) {
      if (mine === generation.current) setError(onError(caught));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  // A new listing whenever the prefix or the separator changes (after typing pauses), or after a write.
  useEffect(() => {
    const timer = setTimeout(() => {
      generation.current++;
      const start: Listing = { prefix, separator, keys: [], groups: new Map(), cursor: null, calls: 0 };
      setListing(start);
      void load(start);
    }, 200);
    return () => clearTimeout(timer);
  }, [prefix, separator, version]);

  const changeSeparator = (value: string) => {
    setSeparator(value);
    localStorage.setItem(SEPARATOR_KEY, value);
  };

  const complete = listing !== undefined && listing.cursor === null && listing.calls > 0;
  const crumbs = breadcrumbs(prefix, separator);
  const refresh = () => setVersion((v) => v + 1);

  return (
    <main class="browser">
      <section class="panel listing" aria-label="Key browser">
        <div class="toolbar">
          <label class="grow">
            Prefix
            <input
              type="search"
              name="prefix"
              placeholder="all keys"
              value={prefix}
              onInput={(e) => setPrefix(e.currentTarget.value)}
            />
          </label>
          <label class="narrow">
            Separator
            <input name="separator" maxLength={16} value={separator} onInput={(e) => changeSeparator(e.currentTarget.value)} />
          </label>
        </div>
        <div class="toolbar">
          {canWrite && (
            <button class="primary" onClick={() => navigate({ page: 'keys', creating: true })}>
              New key
            </button>
          )}
          {isAdmin && (
            <button class="danger" onClick={() => setBulkOpen(true)}>
              Delete by prefix…
            </button>
          )}
          <button onClick={refresh}>Refresh</button>
        </div>
        <nav class="crumbs" aria-label="Prefix path">
          {crumbs.map((crumb, i) => (
            <>
              {i > 0 && <span aria-hidden="true">›</span>}
              <button class="link" aria-current={crumb.prefix === prefix ? 'location' : undefined} onClick={() => setPrefix(crumb.prefix)}>
                {crumb.label}
              </button>
            </>
          ))}
        </nav>
        {error !== undefined && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <ul class="entries" aria-label="Keys" aria-busy={loading}>
          {listing !== undefined &&
            [...listing.groups].map(([group, count]) => (
              <li key={`g:${group}`}>
                <button class="entry folder" onClick={() => setPrefix(group)} title={`Keys under ${group}`}>
                  <span class="icon" aria-hidden="true">▸</span>
                  <span class="name">{group.slice(listing.prefix.length)}</span>
                  <span class="count" aria-label={`${count}${complete ? '' : ' or more'} keys`}>
                    {formatCount(count)}
                    {complete ? '' : '+'}
                  </span>
                </button>
              </li>
            ))}
          {listing?.keys.map((key) => (
            <li key={`k:${key}`}>
              <button
                class="entry"
                aria-current={key === openKey ? 'true' : undefined}
                onClick={() => navigate({ page: 'keys', key })}
                title={key}
              >
                <span class="icon" aria-hidden="true">•</span>
                <span class="name">{key.slice(listing.prefix.length) || key}</span>
              </button>
            </li>
          ))}
        </ul>
        <p class="muted status">
          {loading
            ? 'Loading…'
            : complete
              ? listing.keys.length + listing.groups.size === 0
                ? 'No keys here.'
                : 'All pages loaded: counts are complete.'
              : 'Counts so far (per loaded page).'}
        </p>
        {listing !== undefined && listing.cursor !== null && !loading && (
          <button onClick={() => void load(listing)}>Load more</button>
        )}
      </section>
      <section class="panel detail" aria-label="Selected key">
        {creating ? (
          canWrite ? (
            <CreateKey client={client} onError={onError} initialKey={prefix} onCreated={(key) => {
              refresh();
              navigate({ page: 'keys', key });
            }} />
          ) : (
            <p class="muted">Your role cannot create keys.</p>
          )
        ) : openKey !== undefined ? (
          <KeyView key={openKey} client={client} onError={onError} keyName={openKey} canWrite={canWrite} onDeleted={() => {
            refresh();
            navigate({ page: 'keys' });
          }} />
        ) : (
          <p class="muted">Choose a key to see its value{canWrite ? ', or create one' : ''}.</p>
        )}
      </section>
      {bulkOpen && (
        <BulkDelete
          client={client}
          onError={onError}
          initialPrefix={prefix}
          onClose={(deleted) => {
            setBulkOpen(false);
            if (deleted) refresh();
          }}
        />
      )}
    </main>
  );
}

/** The path to `prefix`, one step per separator: `user:1:` → all keys › user: › user:1:. */
function breadcrumbs(prefix: string, separator: string): { prefix: string; label: string }[] {
  const crumbs = [{ prefix: '', label: 'all keys' }];
  if (prefix === '') return crumbs;
  if (separator !== '') {
    let at = prefix.indexOf(separator);
    while (at >= 0 && at + separator.length < prefix.length) {
      const step = prefix.slice(0, at + separator.length);
      crumbs.push({ prefix: step, label: step.slice(crumbs[crumbs.length - 1]!.prefix.length) });
      at = prefix.indexOf(separator, at + separator.length);
    }
  }
  crumbs.push({ prefix, label: prefix.slice(crumbs[crumbs.length - 1]!.prefix.length) });
  return crumbs;
}
