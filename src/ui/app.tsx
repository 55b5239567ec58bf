/**
 * The dashboard's shell: the session (login page when the server needs one), the navigation
 * between the key browser and the server page, and the address of what is shown (in the URL's
 * hash, so that `/ui/` is the only page the server serves and the back button works).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { KeyBrowser } from './key-browser.js';
import { LoginPage } from './login.js';
import { ServerPage } from './server-page.js';
import { errorText, isSessionOver, logout, resumeSession, type Session } from './session.js';

/** What the hash names: a page, and in the key browser the open key (or the form for a new one). */
export type Route = { page: 'keys'; key?: string; creating?: boolean } | { page: 'server' };

function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  if (path === 'server') return { page: 'server' };
  if (path === 'new') return { page: 'keys', creating: true };
  if (path.startsWith('key/')) return { page: 'keys', key: decodeURIComponent(path.slice(4)) };
  return { page: 'keys' };
}

/** The hash of a route. */
export function hashOf(route: Route): string {
  if (route.page === 'server') return '#/server';
  if (route.creating === true) return '#/new';
  return route.key === undefined ? '#/keys' : `#/key/${encodeURIComponent(route.key)}`;
}

export function navigate(route: Route): void {
  location.hash = hashOf(route);
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [startError, setStartError] = useState<string | undefined>();
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash));

  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    resumeSession().then(setSession, (error: unknown) => setStartError(errorText(error)));
  }, []);

  /** Called by pages when a request answers 401 after the client's refresh: back to the login. */
  const onError = useCallback((error: unknown): string => {
    if (isSessionOver(error)) setSession(null);
    return errorText(error);
  }, []);

  if (startError !== undefined) {
    return (
      <main class="center">
        <p role="alert" class="error">
          The server could not be reached: {startError}
        </p>
        <button onClick={() => location.reload()}>Retry</button>
      </main>
    );
  }
  if (session === undefined) return <p class="boot">Connecting…</p>;
  if (session === null) return <LoginPage onLogin={setSession} />;

  const canWrite = session.role !== 'readonly';
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="#/keys">
          memkv
        </a>
        <nav aria-label="Pages">
          <a href="#/keys" aria-current={route.page === 'keys' ? 'page' : undefined}>
            Keys
          </a>
          <a href="#/server" aria-current={route.page === 'server' ? 'page' : undefined}>
            Server
          </a>
        </nav>
        <div class="who">
          {session.authEnabled ? (
            <>
              <span>
                {session.username} <span class="badge">{session.role}</span>
              </span>
              <button
                class="link"
                onClick={() => {
                  void logout(session).finally(() => setSession(null));
                }}
              >
                Log out
              </button>
            </>
          ) : (
            <span class="muted">auth off</span>
          )}
        </div>
      </header>
      {route.page === 'server' ? (
        <ServerPage client={session.client} onError={onError} />
      ) : (
        <KeyBrowser
          client={session.client}
          canWrite={canWrite}
          isAdmin={session.role === 'admin'}
          openKey={route.key}
          creating={route.creating === true}
          onError={onError}
        />
      )}
    </div>
  );
}
