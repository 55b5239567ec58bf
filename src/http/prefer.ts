/**
 * The `Prefer` request header (RFC 7240): whether a request asks for `return=minimal`.
 *
 * Grammar (RFC 7240 §2): `Prefer = 1#preference`, `preference = token [ BWS "=" BWS word ]
 * *( OWS ";" [ OWS parameter ] )`, `word = token / quoted-string`. Preference names are
 * case-insensitive, unknown preferences are ignored, and when a preference appears more than
 * once only the first counts. Several `Prefer` header lines are one comma-separated list
 * (node:http joins them with ", ").
 */

/**
 * True when `header` (the request's `Prefer` value, `undefined` when absent) holds
 * `return=minimal` as its first `return` preference. Tolerant: optional whitespace around `=`,
 * `,` and `;`, any letter case in the name and value, a quoted value (`return="minimal"`),
 * parameters after `;`, other preferences before or after. `return=representation`, a
 * malformed list or no header at all give false (the full answer).
 */
export function prefersMinimal(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  // Cheap exit for the common case: no "return" anywhere.
  if (!/return/i.test(text)) return false;
  for (const preference of splitOutsideQuotes(text, ',')) {
    const [head = ''] = splitOutsideQuotes(preference, ';');
    const equals = head.indexOf('=');
    const name = (equals < 0 ? head : head.slice(0, equals)).trim().toLowerCase();
    if (name !== 'return') continue;
    // The first `return` decides, whatever its value.
    return equals >= 0 && unquote(head.slice(equals + 1).trim()).toLowerCase() === 'minimal';
  }
  return false;
}

/** Splits `text` on `separator` outside double-quoted strings (where `\` escapes one character). */
function splitOutsideQuotes(text: string, separator: ',' | ';'): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '\\') i++;
      else if (char === '"') quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** The content of a quoted-string (`"min\"imal"` → `min"imal`), or `word` itself when it is a token. */
function unquote(word: string): string {
  if (word.length < 2 || !word.startsWith('"') || !word.endsWith('"')) return word;
  return word.slice(1, -1).replace(/\\(.)/g, '$1');
}
