/** The compressions repository metadata comes in; decoders live in streams/decompress.ts. */
export type Compression = 'xz' | 'gz' | 'bz2' | 'lzma' | 'zst' | 'none';
