/**
 * The web dashboard at `/ui/`: the static files that `npm run build` bundles from src/ui/ into
 * dist/ui/, served as they are. The page is public, like any login page; everything it shows
 * comes through the API with the user's own token, so the API's access checks apply to it.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { MemkvError } from '../../errors.js';

/**
 * Where the build writes the dashboard: dist/ui/ at the package root. Both src/http/routes/ (run
 * through tsx) and dist/http/routes/ (the built server) sit three levels below it.
 */
export const UI_ASSETS_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

/**
 * The page loads only its own files and talks only to its own origin; no framing. The tokens sit
 * in the tab's sessionStorage, so injected script is what this guards against. Inline styles stay
 * allowed: the charts size their elements through style attributes.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** The page's address: `/ui/` (`/ui` redirects there so that relative asset paths resolve). */
export const UI_PATH = '/ui/';

/**
 * Serves the files of `dir` under `/ui/`. When `dir` holds no index.html (the dashboard was not
 * built), `/ui/` answers `503 service_unavailable` saying so, and the server runs on.
 */
export async function registerUiRoutes(app: FastifyInstance, dir: string): Promise<void> {
  // GET /ui
  app.get('/ui', { schema: { hide: true } }, (_request, reply) => reply.redirect(UI_PATH));
  if (!fs.existsSync(join(dir, 'index.html'))) {
    app.log.warn({ dir }, 'the dashboard is not built: /ui answers 503 (run npm run build)');
    // GET /ui/*
    app.get(`${UI_PATH}*`, { schema: { hide: true } }, () => {
      throw new MemkvError('service_unavailable', `the dashboard is not built (no index.html in ${dir}): run npm run build`);
    });
    return;
  }
  // GET /ui/*: index.html, app.js, app.css. The names do not change between builds, so the
  // browser revalidates each time (ETag, Last-Modified): a 304 for files that did not change.
  await app.register(fastifyStatic, {
    root: dir,
    prefix: UI_PATH,
    index: 'index.html',
    wildcard: false,
    cacheControl: true,
    maxAge: 0,
    setHeaders: (response) => {
      response.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      response.header('X-Content-Type-Options', 'nosniff');
      response.header('Referrer-Policy', 'no-referrer');
    },
  });
}
