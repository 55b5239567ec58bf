/**
 * Key patterns in the style of Redis ACL key patterns: `*` matches any run of characters, `?` one
 * character, `\` escapes the next one. A user holds a few; a key is allowed when one matches.
 */

/** Tells whether a key is allowed. */
export interface KeyMatcher {
  (key: string): boolean;
  /**
   * Whether every key that starts with `prefix` is allowed (a watch of the prefix). Sure, not
   * complete: true when a pattern ends with an unescaped `*` and matches `prefix` itself (then it
   * matches the prefix followed by anything); a prefix that only several patterns cover
   * together, or only an odd pattern such as `a*?`, is refused.
   */
  coversPrefix(prefix: string): boolean;
}

/** Most patterns a user may hold. */
export const MAX_KEY_PATTERNS = 32;
/** Longest pattern, in characters. */
export const MAX_KEY_PATTERN_LENGTH = 256;

/**
 * Checks a user's patterns: 1 to {@link MAX_KEY_PATTERNS} non-empty strings of at most
 * {@link MAX_KEY_PATTERN_LENGTH} characters, with no dangling `\`.
 * @returns a message saying what is wrong, or `undefined` when they are fine.
 */
export function describeBadKeyPatterns(patterns: readonly string[]): string | undefined {
  if (patterns.length === 0 || patterns.length > MAX_KEY_PATTERNS) {
    return `keys must hold 1 to ${MAX_KEY_PATTERNS} patterns`;
  }
  for (const pattern of patterns) {
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_KEY_PATTERN_LENGTH) {
      return `each key pattern must be a string of 1 to ${MAX_KEY_PATTERN_LENGTH} characters`;
    }
    if (/(^|[^\\])(\\\\)*\\$/.test(pattern)) return `key pattern ${JSON.stringify(pattern)} ends with a lone "\\"`;
  }
  return undefined;
}

/**
 * Compiles patterns into one matcher.
 * @returns `null` when a pattern is `*` (every key: no check needed), else a matcher.
 */
export function compileKeyPatterns(patterns: readonly string[]): KeyMatcher | null {
  if (patterns.includes('*')) return null;
  const regex = new RegExp(`^(?:${patterns.map(patternSource).join('|')})$`, 'su');
  // A pattern P·* matches p·s for any s once it matches p (its `*` takes s as well).
  const open = patterns.filter(endsWithWildcard);
  const openRegex = open.length === 0 ? undefined : new RegExp(`^(?:${open.map(patternSource).join('|')})$`, 'su');
  return Object.assign((key: string) => regex.test(key), {
    coversPrefix: (prefix: string) => openRegex !== undefined && openRegex.test(prefix),
  });
}

/** Whether the pattern's last character is a `*` wildcard (not an escaped `\*`). */
function endsWithWildcard(pattern: string): boolean {
  return /(^|[^\\])(\\\\)*\*$/.test(pattern);
}

function patternSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') out += '.*';
    else if (char === '?') out += '.';
    else if (char === '\\') out += escapeRegex(pattern[++i] ?? '');
    else out += escapeRegex(char);
  }
  return out;
}

function escapeRegex(text: string): string {
  // Only syntax characters: the `u` flag refuses needless escapes such as `\-`.
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
