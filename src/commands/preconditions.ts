/**
 * Preconditions from a request: HTTP's `If-Match` and `If-None-Match` headers (RFC 9110 section
 * 13.1) and their JSON form in the body (`if_version`, `if_absent`), for clients that cannot set
 * headers. memkv's entity tags are the versions: `"N"`, strong.
 */
import { MemkvError } from '../errors.js';
import type { Preconditions } from '../storage/storage.js';

/** The precondition headers of a request, as every door hands them over. */
export interface PreconditionHeaders {
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
}

/** The JSON form, in a write's body. */
export interface PreconditionFields {
  if_version?: number | null;
  if_absent?: boolean;
}

const TAG = /^"(0|[1-9][0-9]{0,15})"$/;

/** The ETag header value of a version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** The version an entity tag names: `"N"` → N. @throws MemkvError `invalid_request` for anything else. */
function versionOfTag(tag: string, header: string): number {
  const match = TAG.exec(tag);
  const version = match === null ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(version)) {
    throw new MemkvError('invalid_request', `${header} must be * or one version in double quotes, such as "42" (the ETag of an answer); got ${JSON.stringify(tag)}`);
  }
  return version;
}

/**
 * A write's preconditions from its headers and body fields, or undefined when it has none.
 * `If-None-Match` takes only `*` (create only), and only where `create` is true (set).
 * @throws MemkvError `invalid_request` for a malformed header, or header and body that disagree.
 */
export function writePreconditions(headers: PreconditionHeaders, fields: PreconditionFields | undefined, create: boolean): Preconditions | undefined {
  const { ifMatch, ifNoneMatch } = headers;
  let result: Preconditions | undefined;
  if (ifMatch !== undefined) {
    const tag = ifMatch.trim();
    result = tag === '*' ? { ifExists: true } : { ifVersion: versionOfTag(tag, 'If-Match') };
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*' || !create) {
      throw new MemkvError('invalid_request', create ? 'If-None-Match on a write must be * (create only)' : 'If-None-Match: * applies to set only; use If-Match here');
    }
    result = { ...result, ifAbsent: true };
  }
  if (fields !== undefined) {
    const { if_version: ifVersion, if_absent: ifAbsent } = fields;
    if (ifVersion !== undefined) {
      if (result?.ifVersion !== undefined && result.ifVersion !== ifVersion) {
        throw new MemkvError('invalid_request', `If-Match and if_version disagree (${String(result.ifVersion)} and ${String(ifVersion)})`);
      }
      result = { ...result, ifVersion };
    }
    if (ifAbsent === true) result = { ...result, ifAbsent: true };
  }
  return result;
}

/**
 * Whether a read's `If-None-Match` names the current version (the answer is then 304 Not
 * Modified). A list of tags and weak tags (`W/"N"`) are matched as RFC 9110 says (weak comparison).
 */
export function notModified(ifNoneMatch: string | undefined, version: number): boolean {
  if (ifNoneMatch === undefined) return false;
  const current = String(version);
  for (const part of ifNoneMatch.split(',')) {
    let tag = part.trim();
    if (tag === '*') return true;
    if (tag.startsWith('W/')) tag = tag.slice(2);
    if (tag.length === current.length + 2 && tag.startsWith('"') && tag.endsWith('"') && tag.slice(1, -1) === current) return true;
  }
  return false;
}
