/**
 * Builds the dashboard (src/ui/) into dist/ui/: one bundle of the app and its libraries (Preact,
 * uPlot, the memkv client from its sources) as app.js and app.css, and index.html, so that every
 * file the page loads ships with memkv and nothing comes from a CDN; beside them the licenses of
 * the bundled libraries. Run by `npm run build`.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'src', 'ui');
const OUT = join(ROOT, 'dist', 'ui');
/** The libraries bundled into app.js and app.css, whose licenses ship with them. */
const BUNDLED = ['preact', 'uplot'];

fs.rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: { app: join(SOURCE, 'main.tsx') },
  outdir: OUT,
  bundle: true,
  format: 'esm',
  // Browsers of the last few years; the page uses <dialog>, color-mix() and ES2020.
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(SOURCE, 'tsconfig.json'),
  legalComments: 'none',
  logLevel: 'warning',
});
fs.copyFileSync(join(SOURCE, 'index.html'), join(OUT, 'index.html'));
const notices = BUNDLED.map((name) => {
  const { version } = JSON.parse(fs.readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
  const license = fs.readFileSync(join(ROOT, 'node_modules', name, 'LICENSE'), 'utf8').trim();
  return `${name} ${version}\n\n${license}\n`;
});
fs.writeFileSync(join(OUT, 'THIRD-PARTY-LICENSES.txt'), notices.join('\n---\n\n'));
