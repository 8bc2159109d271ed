// lzma-native ships no types; only the streaming decoder is used.
declare module 'lzma-native' {
  import type { Transform } from 'node:stream';
  export function createStream(coder: 'autoDecoder' | 'aloneDecoder' | 'streamDecoder', options?: Record<string, unknown>): Transform;
  const lzma: { createStream: typeof createStream };
  export default lzma;
}
