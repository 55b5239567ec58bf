/**
 * Settings of the command-line client: defaults ← environment (MEMKV_URL, MEMKV_API_VERSION,
 * MEMKV_TOKEN, MEMKV_TIMEOUT, MEMKV_CACERT, MEMKV_CERT, MEMKV_KEY) ← flags. Server settings live in load.ts; these only say how to reach a server.
 */
import { CLIENT_DEFAULTS } from '@memkv/client';
import { ConfigError } from '../errors.js';
import { parseDurationMs } from '../units.js';
import { DEFAULTS } from './defaults.js';

export interface CliSettings {
  /** Base URL of the server (MEMKV_URL, --url). The client checks its form. */
  readonly url: string;
  /** API version segment, as the server's API_VERSION (MEMKV_API_VERSION, --api-version). The client checks its form. */
  readonly apiVersion: string;
  /** Bearer token sent with every request (MEMKV_TOKEN, --token); default none. */
  readonly token: string | undefined;
  /** Longest wait for one attempt, in ms (MEMKV_TIMEOUT, --timeout, as a duration such as 5s). */
  readonly timeoutMs: number;
  /** PEM file of the CA certificates to trust for an https URL, instead of the system's (MEMKV_CACERT, --cacert). */
  readonly caFile: string | undefined;
  /** PEM file of a client certificate, for mutual TLS (MEMKV_CERT, --cert); needs keyFile. */
  readonly certFile: string | undefined;
  /** PEM file of that certificate's private key (MEMKV_KEY, --key). */
  readonly keyFile: string | undefined;
}

export const CLI_DEFAULTS: CliSettings = Object.freeze({
  url: `http://${DEFAULTS.host}:${DEFAULTS.port}`, // the server's default HOST and PORT
  apiVersion: DEFAULTS.apiVersion, // the server's default API_VERSION
  token: undefined,
  timeoutMs: CLIENT_DEFAULTS.timeoutMs,
  caFile: undefined, // the system's CAs (and NODE_EXTRA_CA_CERTS)
  certFile: undefined, // no client certificate
  keyFile: undefined,
});

/** Environment variable of each setting. */
const CLI_ENV_NAMES: { readonly [K in keyof CliSettings]: string } = Object.freeze({
  url: 'MEMKV_URL',
  apiVersion: 'MEMKV_API_VERSION',
  token: 'MEMKV_TOKEN',
  timeoutMs: 'MEMKV_TIMEOUT',
  caFile: 'MEMKV_CACERT',
  certFile: 'MEMKV_CERT',
  keyFile: 'MEMKV_KEY',
});

export interface CliSettingsOptions {
  /** Environment to read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Flag values, which win over the environment. */
  flags?: {
    url?: string | undefined;
    apiVersion?: string | undefined;
    token?: string | undefined;
    timeout?: string | undefined;
    cacert?: string | undefined;
    cert?: string | undefined;
    key?: string | undefined;
  };
}

/**
 * Builds the CLI settings: each flag wins over its variable, which wins over the default. The
 * client checks the URL, API version and token when it is created.
 * @throws ConfigError naming the flag or variable when the timeout is not a duration, or when
 *   a client certificate comes without its key (or a key without its certificate).
 */
export function loadCliSettings({ env = process.env, flags = {} }: CliSettingsOptions = {}): CliSettings {
  const read = (key: keyof CliSettings): string | undefined => {
    const text = env[CLI_ENV_NAMES[key]]?.trim();
    return text === '' ? undefined : text;
  };
  const timeout = flags.timeout ?? read('timeoutMs');
  const certFile = flags.cert ?? read('certFile');
  const keyFile = flags.key ?? read('keyFile');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [missing, given] = certFile === undefined ? ['--cert (MEMKV_CERT)', '--key'] : ['--key (MEMKV_KEY)', '--cert'];
    throw new ConfigError(missing, `a client certificate needs both --cert and --key; only ${given} was given`);
  }
  return Object.freeze({
    url: flags.url ?? read('url') ?? CLI_DEFAULTS.url,
    apiVersion: flags.apiVersion ?? read('apiVersion') ?? CLI_DEFAULTS.apiVersion,
    token: flags.token ?? read('token'),
    timeoutMs:
      timeout === undefined ? CLI_DEFAULTS.timeoutMs : timeoutMs(timeout, flags.timeout === undefined ? CLI_ENV_NAMES.timeoutMs : '--timeout'),
    caFile: flags.cacert ?? read('caFile'),
    certFile,
    keyFile,
  });
}

/** Longest timeout a timer accepts (2^31 - 1 ms, about 596 hours). */
const MAX_TIMEOUT_MS = 2_147_483_647;

function timeoutMs(text: string, name: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw new ConfigError(name, `accepts a duration such as 500ms, 5s or 1m (from 1ms to 596h); got ${JSON.stringify(text)}`);
  }
  return Math.ceil(ms);
}
