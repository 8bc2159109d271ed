import { isRepointError } from '../../src/errors.ts';

/** The RepointError code `fn` throws, 'other' for any other error, undefined when it does not throw. */
export function errorCodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isRepointError(err) ? err.code : 'other';
  }
  return undefined;
}
