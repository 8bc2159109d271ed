import type { Transform } from 'node:stream';
import { PassThrough } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import lzma from 'lzma-native';
import { RepointError } from '../errors.ts';
import type { Compression } from '../formats/compression.ts';


/** A streaming decoder for an index's compression (memory stays flat for any size). */
export function decompressor(c: Compression): Transform {
  switch (c) {
    case 'none': return new PassThrough();
    case 'gz': return createGunzip();
    case 'zst': return createZstdDecompress();
    case 'xz': return lzma.createStream('autoDecoder');
    case 'lzma': return lzma.createStream('aloneDecoder');
    case 'bz2': throw new RepointError('METADATA_INVALID', 'bzip2-compressed indexes are not supported; the proxy reads the .xz, .gz or plain variant');
  }
}
