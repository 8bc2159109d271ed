// lzma-native ships no types; the streaming decoders are used (and the encoder, by tests making bombs).
declare module 'lzma-native' {
  import type { Transform } from 'node:stream';
  export function createStream(coder: 'autoDecoder' | 'aloneDecoder' | 'streamDecoder' | 'easyEncoder', options?: Record<string, unknown>): Transform;
  const lzma: { createStream: typeof createStream };
  export default lzma;
}
