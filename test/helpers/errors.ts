/** The MemkvError code `fn` throws, or undefined when it returns; anything else is rethrown. */
import { MemkvError } from '../../src/errors.js';

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof MemkvError) return error.code;
    throw error;
  }
  return undefined;
}
