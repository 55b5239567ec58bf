/**
 * Builds memkv (`npm run build`) only when what the build reads changed since the last build made
 * here, or an output is missing, so that `npm start` starts the built server at once. `--force`
 * builds anyway (and, like every build made here, records what it built from).
 *
 * What the build read is recorded as a fingerprint of the path, size and mtime of every input file
 * (src/** with the dashboard's src/ui/**, packages/<name>/src/**, the package.json,
 * package-lock.json and tsconfig*.json files, and the dashboard's build script),
 * taken before the build and written to dist/.build-stamp once it succeeds: a file edited while
 * the build runs, one replaced by an older copy, or one added or deleted all change it. Checking
 * costs a few stat calls; plain Node, no dependency. `npm start` runs it in the server's own
 * process (scripts/start.mjs), `npm test` as a script.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(ROOT, 'dist', '.build-stamp');
/** Files the server and `memkv` need; a build is due when one is missing. */
const OUTPUTS = [
  'dist/main.js',
  'dist/index.js',
  'dist/cli/bin.js',
  'dist/ui/index.html',
  'dist/ui/app.js',
  'dist/ui/app.css',
  'packages/client/dist/index.js',
  'packages/client/dist/protocol.js',
];
/** Inputs outside the package roots' src/ directories. */
const EXTRA_INPUTS = ['scripts/build-ui.mjs'];

/** The package roots whose sources and settings the build reads: the server and each workspace package. */
function packageRoots() {
  const packages = join(ROOT, 'packages');
  const names = fs.existsSync(packages) ? fs.readdirSync(packages, { withFileTypes: true }).filter((entry) => entry.isDirectory()) : [];
  return [ROOT, ...names.map((entry) => join(packages, entry.name))];
}

/** One line per input file: path, size and mtime. */
function inputLines() {
  const lines = [];
  const add = (path) => {
    const stat = fs.statSync(path, { throwIfNoEntry: false });
    if (stat?.isFile()) lines.push(`${relative(ROOT, path)}\0${stat.size}\0${stat.mtimeMs}`);
  };
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else add(path);
    }
  };
  for (const root of packageRoots()) {
    if (fs.existsSync(join(root, 'src'))) walk(join(root, 'src'));
    for (const name of fs.readdirSync(root)) {
      if (name === 'package.json' || name === 'package-lock.json' || /^tsconfig.*\.json$/.test(name)) add(join(root, name));
    }
  }
  for (const path of EXTRA_INPUTS) add(join(ROOT, path));
  return lines.sort();
}

function fingerprint() {
  return createHash('sha256').update(inputLines().join('\n')).digest('hex');
}

function recorded() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, 'utf8')).inputs;
  } catch {
    return undefined;
  }
}

/**
 * Builds when the build is stale (or always, with `force`).
 * @returns the exit code of a failed build, else 0.
 */
export function buildIfStale({ force = false } = {}) {
  const inputs = fingerprint();
  const missing = OUTPUTS.find((output) => !fs.existsSync(join(ROOT, output)));
  if (!force && missing === undefined && recorded() === inputs) return 0;

  if (!force) {
    process.stderr.write(`memkv: ${missing === undefined ? 'sources changed since the last build' : `${missing} is missing`}: building\n`);
  }
  // A failed or interrupted build leaves no stamp, so the next start builds again.
  fs.rmSync(STAMP, { force: true });
  // Under npm, npm_execpath is npm's own script: run with this Node, no shell, on every platform.
  const npmCli = process.env.npm_execpath;
  const build =
    npmCli !== undefined && /\.[cm]?js$/.test(npmCli)
      ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { cwd: ROOT, stdio: 'inherit' })
      : spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) return build.status ?? 1;
  fs.writeFileSync(STAMP, JSON.stringify({ inputs, builtAt: new Date().toISOString() }) + '\n');
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = buildIfStale({ force: process.argv.includes('--force') });
}
