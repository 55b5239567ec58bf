/**
 * The `memkv` command: argument parsing (node:util parseArgs), one handler per subcommand over the
 * client, and the exit codes (0 success, 1 not found, 2 usage or any other error). With `--json`,
 * a command prints the API's answer exactly as the server sent it (the client's `wire` calls).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  createClient,
  ListEmptyError,
  MemkvClientError,
  NotFoundError,
  type MemkvClient,
  type MessageJson,
  type TxnCheckJson,
  type TxnOpJson,
  type Value,
} from '@memkv/client';
import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { loadCliSettings, type CliSettings } from '../config/cli-settings.js';
import { ENV_NAMES } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { VERSION } from '../version.js';
import { formatStats, formatValue } from './format.js';

/** Where the command writes; each call writes one whole line (the newline is added). */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

/** How a command ends: an exit code, or `'serving'` when the server now runs until a signal. */
export type CliResult = 0 | 1 | 2 | 'serving';

/** Exit codes: success, not found (missing key, or nothing to pop), usage or any other error. */
const EXIT = { ok: 0, notFound: 1, error: 2 } as const;

type Options = NonNullable<ParseArgsConfig['options']>;
type Flags = { [name: string]: string | boolean | undefined };

/** Flags every client command takes. */
const CLIENT_OPTIONS = {
  url: { type: 'string' },
  'api-version': { type: 'string' },
  token: { type: 'string' },
  timeout: { type: 'string' },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

const TTL_OPTION = { ttl: { type: 'string' } } as const satisfies Options;
const LIST_OPTION = { list: { type: 'boolean' } } as const satisfies Options;
const LIMIT_OPTION = { limit: { type: 'string' } } as const satisfies Options;
/** push and pop: the Idempotency-Key to send (default a new one per run), for a script that runs the same command again after a lost answer. */
const IDEMPOTENCY_OPTION = { 'idempotency-key': { type: 'string' } } as const satisfies Options;
/** Compare-and-set: write only if the key's version is N (`none`: only if the key is missing). */
const IF_VERSION_OPTION = { 'if-version': { type: 'string' } } as const satisfies Options;

/** A mistake in the command line: printed with a hint to --help, exit code 2. */
class UsageError extends Error {}

interface Command {
  /** Arguments after the command name, for the help text. */
  args: string;
  summary: string;
  /** Fewest and most positional arguments, the key included. */
  minArgs: number;
  maxArgs: number;
  /** Flags of this command, besides the client ones. */
  options: Options;
  /** Whether arguments may be negative whole numbers (`-1`), which would otherwise read as flags. */
  negativeArgs?: boolean;
  run(client: MemkvClient, args: string[], flags: Flags, output: CliOutput, context: CommandContext): Promise<CliResult>;
}

/** What a command may read besides its arguments. */
interface CommandContext {
  env: Readonly<Record<string, string | undefined>>;
  /** The whole standard input, as text. */
  readInput(): Promise<string>;
  /** Aborts a command that runs until stopped (`watch`): Ctrl-C in the executable. */
  signal: AbortSignal | undefined;
}

// ---- Client commands ----

const COMMANDS: Readonly<Record<string, Command>> = {
  // memkv get KEY
  get: keyCommand('print the value of KEY (a list as numbered lines)', async (client, key, flags, output) => {
    if (flags.json === true) return json(output, await client.wire.get(key));
    const row = await client.get(key);
    if (row === null) throw missing(key);
    output.out(formatValue(row));
    return EXIT.ok;
  }),
  // memkv set KEY VALUE... [--ttl 1h] [--list]
  set: writeCommand('create or replace KEY; several values, or --list, make a list', (client, ...args) => client.wire.set(...args)),
  // memkv update KEY VALUE... [--ttl 1h] [--list]
  update: writeCommand('replace the value of an existing KEY (its expiry stays unless --ttl)', (client, ...args) =>
    client.wire.update(...args),
  ),
  // memkv push KEY VALUE... [--ttl 1h] [--if-version N] [--idempotency-key K]
  push: {
    args: 'KEY VALUE... [--ttl 1h] [--if-version N] [--idempotency-key K]',
    summary: 'append to the list at KEY (created if missing) and print the list',
    minArgs: 2,
    maxArgs: Infinity,
    options: { ...TTL_OPTION, ...IF_VERSION_OPTION, ...IDEMPOTENCY_OPTION },
    async run(client, [key, ...values], flags, output) {
      const options = { ttl: stringFlag(flags.ttl), ifVersion: ifVersionOf(flags), idempotencyKey: stringFlag(flags['idempotency-key']) };
      if (flags.json === true) return json(output, await client.wire.push(key!, values, options));
      output.out(formatValue(await client.push(key!, values, options)));
      return EXIT.ok;
    },
  },
  // memkv pop KEY [--if-version N] [--idempotency-key K]
  pop: keyCommand(
    'remove the last element of the list at KEY and print it (with --idempotency-key, running it again prints the same element and removes nothing more)',
    async (client, key, flags, output) => {
      const ifVersion = ifVersionOf(flags) ?? undefined;
      const idempotencyKey = stringFlag(flags['idempotency-key']);
      if (flags.json === true) return json(output, await client.wire.pop(key, { ifVersion, idempotencyKey }));
      // Only the element is printed: the minimal answer spares the server copying and sending the list.
      output.out((await client.pop(key, { minimal: true, ifVersion, idempotencyKey })).popped);
      return EXIT.ok;
    },
    { ...IF_VERSION_OPTION, ...IDEMPOTENCY_OPTION },
  ),
  // memkv range KEY START STOP
  range: {
    args: 'KEY START STOP',
    summary: 'print the list at KEY from index START to STOP, both included, as numbered lines (-1 is the last element)',
    minArgs: 3,
    maxArgs: 3,
    options: {},
    negativeArgs: true,
    async run(client, [key, start, stop], flags, output) {
      const from = indexOf(start!, 'START');
      const to = indexOf(stop!, 'STOP');
      if (flags.json === true) return json(output, await client.wire.range(key!, from, to));
      const row = await client.range(key!, from, to);
      if (row === null) throw missing(key!);
      output.out(formatValue(row));
      return EXIT.ok;
    },
  },
  // memkv ttl KEY [DURATION|never]
  ttl: {
    args: 'KEY [DURATION|never]',
    summary: 'print when KEY expires (RFC 3339, or never); with DURATION, set it from now (never: no expiry) and print it',
    minArgs: 1,
    maxArgs: 2,
    options: IF_VERSION_OPTION,
    async run(client, [key, duration], flags, output) {
      // Both answers are {key, ttl, version}; the text is the API's own time, so nothing is converted.
      const answer =
        duration === undefined
          ? await client.wire.getTtl(key!)
          : await client.wire.setTtl(key!, duration === 'never' ? null : duration, { ifVersion: ifVersionOf(flags) });
      output.out(flags.json === true ? JSON.stringify(answer) : (answer.ttl ?? 'never'));
      return EXIT.ok;
    },
  },
  // memkv keys [PREFIX] [--limit 100]
  keys: {
    args: '[PREFIX] [--limit N]',
    summary: 'print every key (starting with PREFIX), one per line, fetched N at a time (--json: one API page per line)',
    minArgs: 0,
    maxArgs: 1,
    options: LIMIT_OPTION,
    async run(client, [prefix], flags, output) {
      const limit = limitOf(flags);
      if (flags.json === true) {
        // One line per page, each the API's answer: {"keys": [...], "cursor": ...}; the last one's cursor is null.
        let cursor: string | undefined;
        do {
          const page = await client.wire.listKeys({ prefix, limit, cursor });
          output.out(JSON.stringify(page));
          cursor = page.cursor ?? undefined;
        } while (cursor !== undefined);
      } else {
        // Printed as they come, so that a large keyspace streams instead of piling up in memory.
        for await (const key of client.keys({ prefix, limit })) output.out(key);
      }
      return EXIT.ok;
    },
  },
  // memkv size
  size: databaseCommand('print the number of keys', (client) => client.wire.size(), ({ keys }) => String(keys)),
  // memkv flush
  flush: databaseCommand('remove every key', (client) => client.wire.flush(), ({ removed }) => `OK (${removed} keys removed)`),
  // memkv stats
  stats: databaseCommand('print the server statistics (like Redis INFO)', (client) => client.wire.stats(), formatStats),
  // memkv login USERNAME [--password-stdin]
  login: {
    args: 'USERNAME [--password-stdin]',
    summary: 'log in and print an access token for --token or MEMKV_TOKEN (password: MEMKV_PASSWORD, or the first line of stdin)',
    minArgs: 1,
    maxArgs: 1,
    options: { 'password-stdin': { type: 'boolean' } },
    async run(client, [username], flags, output, { env, readInput }) {
      // Never a --password flag: command lines are visible to every user of the machine.
      const password = flags['password-stdin'] === true ? (await readInput()).split(/\r?\n/, 1)[0] : env.MEMKV_PASSWORD;
      if (password === undefined || password === '') throw new UsageError('give the password on stdin with --password-stdin, or in MEMKV_PASSWORD');
      const tokens = await client.wire.login(username!, password);
      output.out(flags.json === true ? JSON.stringify(tokens) : tokens.access_token);
      return EXIT.ok;
    },
  },
  // memkv logout
  logout: {
    args: '',
    summary: 'end the login session of the token (--token or MEMKV_TOKEN): its access and refresh tokens stop working',
    minArgs: 0,
    maxArgs: 0,
    options: {},
    async run(client, _args, flags, output) {
      return done(flags, output, await client.wire.logout());
    },
  },
  // memkv watch [PREFIX] [--from ID]
  watch: {
    args: '[PREFIX] [--from ID]',
    summary: 'print each change to the keys (starting with PREFIX) as one JSON line, from now or after event ID, until Ctrl-C',
    minArgs: 0,
    maxArgs: 1,
    options: { from: { type: 'string' } },
    async run(client, [prefix], flags, output, { signal }) {
      const from = stringFlag(flags.from);
      if (from !== undefined && !/^[0-9]{1,16}(\.[0-9]{1,10})?$/.test(from)) {
        throw new UsageError(`--from takes an event id such as 42 or 42.1; got ${JSON.stringify(from)}`);
      }
      // Always JSON: the event as the server sent it, with its id (to resume with --from).
      for await (const event of client.watch({ prefix, from, signal })) output.out(JSON.stringify(event));
      return EXIT.ok;
    },
  },
  // memkv rm KEY [--if-version N]
  rm: keyCommand('remove KEY', async (client, key, flags, output) => {
    const ifVersion = ifVersionOf(flags) ?? undefined;
    if (flags.json === true) return json(output, await client.wire.remove(key, { ifVersion }));
    if (!(await client.remove(key, { ifVersion }))) throw missing(key);
    output.out('OK');
    return EXIT.ok;
  }, IF_VERSION_OPTION),
  // memkv txn [FILE] [--idempotency-key K]
  txn: {
    args: '[FILE] [--idempotency-key K]',
    summary: 'apply a transaction, {"checks": [...], "ops": [...]} as JSON from FILE or stdin, all or nothing; print its version',
    minArgs: 0,
    maxArgs: 1,
    options: IDEMPOTENCY_OPTION,
    async run(client, [file], flags, output, { readInput }) {
      const text = file === undefined ? await readInput() : await readFile(file, 'utf8');
      let body: { checks?: TxnCheckJson[]; ops?: TxnOpJson[] };
      try {
        body = JSON.parse(text) as typeof body;
      } catch (error) {
        throw new UsageError(`the transaction is not JSON: ${(error as Error).message}`);
      }
      if (typeof body !== 'object' || body === null || !Array.isArray(body.ops)) throw new UsageError('the transaction needs "ops": an array of ops');
      const answer = await client.txn(body.ops, { checks: body.checks, idempotencyKey: stringFlag(flags['idempotency-key']) });
      output.out(flags.json === true ? JSON.stringify(answer) : `OK (version ${answer.version})`);
      return EXIT.ok;
    },
  },
};

/** --if-version: a version, `none` (the key must be missing), or undefined when not given. */
function ifVersionOf(flags: Flags): number | null | undefined {
  const text = flags['if-version'];
  if (typeof text !== 'string') return undefined;
  if (text === 'none') return null;
  const version = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(version)) throw new UsageError(`--if-version takes a version (a whole number) or none; got ${JSON.stringify(text)}`);
  return version;
}

/** get, pop and rm: one KEY (pop and rm take --if-version, pop --idempotency-key). */
function keyCommand(
  summary: string,
  run: (client: MemkvClient, key: string, flags: Flags, output: CliOutput) => Promise<CliResult>,
  options: Options = {},
): Command {
  return {
    args: ['KEY', ...('if-version' in options ? ['[--if-version N]'] : []), ...('idempotency-key' in options ? ['[--idempotency-key K]'] : [])].join(' '),
    summary,
    minArgs: 1,
    maxArgs: 1,
    options,
    run: (client, [key], flags, output) => run(client, key!, flags, output),
  };
}

/** set and update: the same arguments and output around a different call. */
function writeCommand(
  summary: string,
  write: (client: MemkvClient, ...args: Parameters<MemkvClient['set']>) => Promise<MessageJson>,
): Command {
  return {
    args: 'KEY VALUE... [--ttl 1h] [--list] [--if-version N|none]',
    summary,
    minArgs: 1,
    maxArgs: Infinity,
    options: { ...TTL_OPTION, ...LIST_OPTION, ...IF_VERSION_OPTION },
    async run(client, [key, ...values], flags, output) {
      return done(flags, output, await write(client, key!, valueOf(values, flags), { ttl: stringFlag(flags.ttl), ifVersion: ifVersionOf(flags) }));
    },
  };
}

/** size, flush and stats: no arguments, one call, the API's answer as JSON or as text. */
function databaseCommand<T>(summary: string, call: (client: MemkvClient) => Promise<T>, text: (answer: T) => string): Command {
  return {
    args: '',
    summary,
    minArgs: 0,
    maxArgs: 0,
    options: {},
    async run(client, _args, flags, output) {
      const answer = await call(client);
      output.out(flags.json === true ? JSON.stringify(answer) : text(answer));
      return EXIT.ok;
    },
  };
}

/** Prints the API's answer as it came (`--json`). */
function json(output: CliOutput, answer: unknown): CliResult {
  output.out(JSON.stringify(answer));
  return EXIT.ok;
}

/** The end of a command whose answer is `{"message": "ok"}`: that answer with --json, else `OK`. */
function done(flags: Flags, output: CliOutput, answer: MessageJson): CliResult {
  output.out(flags.json === true ? JSON.stringify(answer) : 'OK');
  return EXIT.ok;
}

function missing(key: string): NotFoundError {
  return new NotFoundError('item_not_found', `key ${JSON.stringify(key)} does not exist`, { status: 404 });
}

/** The value of set/update: one string, or a list when there are several values or --list. */
function valueOf(values: string[], flags: Flags): Value {
  if (flags.list === true) return values;
  if (values.length === 0) throw new UsageError('give a VALUE, or --list for an empty list');
  return values.length === 1 ? values[0]! : values;
}

/** A list index argument of range: a whole number, negative from the end. */
function indexOf(text: string, name: string): number {
  const index = /^-?[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(index)) {
    throw new UsageError(`${name} takes a whole number (negative counts from the end); got ${JSON.stringify(text)}`);
  }
  return index;
}

function limitOf(flags: Flags): number | undefined {
  if (typeof flags.limit !== 'string') return undefined;
  const limit = /^[0-9]{1,4}$/.test(flags.limit) ? Number(flags.limit) : NaN;
  if (!(limit >= 1 && limit <= 1000)) throw new UsageError(`--limit takes a whole number from 1 to 1000; got ${JSON.stringify(flags.limit)}`);
  return limit;
}

// ---- serve ----

type ServerSetting = keyof typeof ENV_NAMES;

/** Settings read from the environment only: a command line is visible to every user of the machine. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set<ServerSetting>(['adminPassword', 'jwtSecret']);

/** `memkv serve` flags: one per server setting, named after its variable (HEALTH_PORT → --health-port). */
const SERVE_FLAGS: Readonly<Record<string, ServerSetting>> = Object.fromEntries(
  Object.entries(ENV_NAMES)
    .filter(([key]) => !SECRET_SETTINGS.has(key))
    .map(([key, env]) => [env.toLowerCase().replaceAll('_', '-'), key as ServerSetting]),
);

// memkv serve [--port 8080] [--health-port 8081] ...
async function serve(argv: string[], output: CliOutput): Promise<CliResult> {
  const options: Options = { help: { type: 'boolean', short: 'h' } };
  for (const flag of Object.keys(SERVE_FLAGS)) options[flag] = { type: 'string' };
  const { values } = parse(argv, options, 0);
  if (values.help === true) {
    output.out(serveHelp());
    return EXIT.ok;
  }
  const overrides: Partial<Record<ServerSetting, string>> = {};
  for (const [flag, key] of Object.entries(SERVE_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') overrides[key] = value;
  }
  // Imported here, so that the client commands start without loading the server.
  const { runServer } = await import('../main.js');
  await runServer({ overrides });
  return 'serving';
}

function serveHelp(): string {
  const flags = Object.entries(SERVE_FLAGS).map(([flag, key]) => `  ${`--${flag} VALUE`.padEnd(36)}overrides ${ENV_NAMES[key]}`);
  return ['Usage: memkv serve [flags]', '', 'Starts the server, as npm start does: configured by the environment, and by these flags:', ...flags].join('\n');
}

// ---- Entry ----

function help(): string {
  const commands = Object.entries(COMMANDS).map(([name, command]) => `  ${`${name} ${command.args}`.padEnd(42)}${command.summary}`);
  return [
    'Usage: memkv <command> [options]',
    '',
    'Commands:',
    `  ${'serve [flags]'.padEnd(42)}start the server (memkv serve --help lists the flags)`,
    ...commands,
    '',
    'Options:',
    '  --url URL        server address (default $MEMKV_URL, else http://127.0.0.1:8080)',
    '  --api-version V  API version of the server (default $MEMKV_API_VERSION, else v1)',
    '  --token TOKEN    bearer token (default $MEMKV_TOKEN; memkv login prints one)',
    '  --timeout TIME   timeout of each attempt, such as 5s (default $MEMKV_TIMEOUT, else 10s)',
    '  --cacert FILE    PEM CA certificates to trust for an https URL (default $MEMKV_CACERT, else the system\'s)',
    '  --cert FILE      PEM client certificate, for mutual TLS (default $MEMKV_CERT); needs --key',
    '  --key FILE       PEM key of the client certificate (default $MEMKV_KEY)',
    '  --json           print the API\'s JSON answer as it came instead of text (errors too, on stderr)',
    '  -h, --help       print this help',
    '  --version        print the version',
    '',
    'Exit codes: 0 success, 1 not found (missing key, or nothing to pop), 2 usage or other error.',
    'Put -- before values that start with "-": memkv set KEY -- -1 (range reads negative indexes without it).',
  ].join('\n');
}

/**
 * Prefix that makes parseArgs read a negative number (`-1`) as an argument instead of a short
 * flag. A command-line argument cannot contain NUL, so no real argument starts with it.
 */
const NEGATIVE_MARK = '\0';

/**
 * Parses `argv` against `options`. @param negativeArgs read `-1`, `-20` (before any `--`) as
 * arguments, not flags. @throws UsageError for unknown flags or arguments where none are allowed.
 */
function parse(argv: string[], options: Options, maxArgs: number, negativeArgs = false): { values: Flags; positionals: string[] } {
  let args = argv;
  if (negativeArgs) {
    const end = argv.indexOf('--');
    args = argv.map((arg, at) => ((end < 0 || at < end) && /^-[0-9]+$/.test(arg) ? NEGATIVE_MARK + arg : arg));
  }
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: maxArgs > 0, strict: true }) as { values: Flags; positionals: string[] };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!negativeArgs) return parsed;
  const unmark = <T>(value: T): T => (typeof value === 'string' && value.startsWith(NEGATIVE_MARK) ? (value.slice(1) as T) : value);
  return {
    values: Object.fromEntries(Object.entries(parsed.values).map(([name, value]) => [name, unmark(value)])),
    positionals: parsed.positionals.map(unmark),
  };
}

/**
 * Runs the command line `argv` (without `node` and the script). Never rejects: each failure is
 * written to `output.err` and becomes exit code 1 (not found) or 2.
 * @param env environment for MEMKV_URL, MEMKV_API_VERSION, MEMKV_TOKEN, MEMKV_TIMEOUT and MEMKV_PASSWORD; default `process.env`.
 * @param readInput reads the standard input (`login --password-stdin`); default the process's.
 * @param signal stops a command that runs until stopped (`watch`), which then ends with 0.
 */
export async function runCli(
  argv: readonly string[],
  output: CliOutput,
  env?: Readonly<Record<string, string | undefined>>,
  readInput: () => Promise<string> = readProcessInput,
  signal?: AbortSignal,
): Promise<CliResult> {
  const [name, ...rest] = argv;
  // Read before parsing, so that a usage error is reported as JSON too; after `--` it is a value.
  const optionsEnd = rest.indexOf('--');
  const json = (optionsEnd < 0 ? rest : rest.slice(0, optionsEnd)).includes('--json');
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      (name === undefined ? output.err : output.out)(help());
      return name === undefined ? EXIT.error : EXIT.ok;
    }
    if (name === '--version') {
      output.out(VERSION);
      return EXIT.ok;
    }
    if (name === 'serve') return await serve(rest, output);
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    const { values, positionals } = parse(rest, { ...CLIENT_OPTIONS, ...command.options }, command.maxArgs, command.negativeArgs);
    if (values.help === true) {
      output.out(`Usage: memkv ${name} ${command.args}\n\n${command.summary}`);
      return EXIT.ok;
    }
    if (positionals.length < command.minArgs || positionals.length > command.maxArgs) {
      throw new UsageError(`usage: memkv ${name} ${command.args}`);
    }
    const settings = loadCliSettings({
      env,
      flags: {
        url: stringFlag(values.url),
        apiVersion: stringFlag(values['api-version']),
        token: stringFlag(values.token),
        timeout: stringFlag(values.timeout),
        cacert: stringFlag(values.cacert),
        cert: stringFlag(values.cert),
        key: stringFlag(values.key),
      },
    });
    // The CLI settings are the client's options of the same names, and its TLS files a dispatcher of Node's fetch.
    const client = createClient({ ...settings, fetchOptions: await tlsFetchOptions(settings) });
    return await command.run(client, positionals, values, output, { env: env ?? process.env, readInput, signal });
  } catch (error) {
    return fail(error, json, output);
  }
}

/**
 * The fetch options that make Node's fetch trust `caFile` and present `certFile`/`keyFile`, as
 * curl's --cacert, --cert and --key: an undici Agent (the library behind Node's fetch) as its
 * dispatcher. Undefined when no file is given (the system's CAs, no client certificate).
 * @throws ConfigError naming the flag and the file when a file cannot be read
 */
async function tlsFetchOptions(settings: CliSettings): Promise<{ dispatcher: Dispatcher } | undefined> {
  const { caFile, certFile, keyFile } = settings;
  if (caFile === undefined && certFile === undefined) return undefined;
  const read = async (flag: string, path: string | undefined): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new ConfigError(flag, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const [ca, cert, key] = await Promise.all([read('--cacert', caFile), read('--cert', certFile), read('--key', keyFile)]);
  // Loaded only when needed: the plain-HTTP commands start without it.
  const { Agent } = await import('undici');
  return { dispatcher: new Agent({ connect: { ca, cert, key } }) };
}

async function readProcessInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function stringFlag(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Writes `error` to stderr (as `{code, message}` with --json) and picks the exit code. */
function fail(error: unknown, json: boolean, output: CliOutput): CliResult {
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    const code = error instanceof MemkvClientError ? error.code : error instanceof UsageError ? 'usage' : error instanceof ConfigError ? 'invalid_config' : 'error';
    output.err(JSON.stringify({ code, message }));
  } else {
    output.err(`memkv: ${message}${error instanceof UsageError ? "\nRun 'memkv --help' for usage." : ''}`);
  }
  return error instanceof NotFoundError || error instanceof ListEmptyError ? EXIT.notFound : EXIT.error;
}
