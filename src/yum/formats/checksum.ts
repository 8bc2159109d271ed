import { RepointError } from '../../errors.ts';

/** Digest algorithms yum metadata may name; `type="sha"` is an old spelling of sha1. */
export type YumChecksumAlgo = 'sha512' | 'sha384' | 'sha256' | 'sha224' | 'sha1' | 'md5';

export interface YumChecksum {
  algo: YumChecksumAlgo;
  /** Lower-case hex. */
  hex: string;
}

const ALGO_OF_TYPE: Readonly<Record<string, YumChecksumAlgo>> = {
  sha512: 'sha512',
  sha384: 'sha384',
  sha256: 'sha256',
  sha224: 'sha224',
  sha1: 'sha1',
  sha: 'sha1',
  md5: 'md5',
};

const YUM_HEX_LENGTH: Readonly<Record<YumChecksumAlgo, number>> = {
  sha512: 128,
  sha384: 96,
  sha256: 64,
  sha224: 56,
  sha1: 40,
  md5: 32,
};

const HEX = /^[0-9a-f]+$/;

/** The algo for a `<checksum type="…">` value (case-insensitive), or undefined if unknown. */
function yumChecksumAlgo(type: string): YumChecksumAlgo | undefined {
  const key = type.trim().toLowerCase();
  return Object.hasOwn(ALGO_OF_TYPE, key) ? ALGO_OF_TYPE[key] : undefined;
}

/** Validates a checksum element's type and text; `where` names it in the error. */
export function parseYumChecksum(type: string | undefined, text: string, where: string): YumChecksum {
  if (type === undefined) throw new RepointError('METADATA_INVALID', `${where}: checksum without a type`);
  const algo = yumChecksumAlgo(type);
  if (algo === undefined) {
    throw new RepointError('METADATA_INVALID', `${where}: unknown checksum type ${JSON.stringify(type)}`);
  }
  const hex = text.trim().toLowerCase();
  if (hex.length !== YUM_HEX_LENGTH[algo] || !HEX.test(hex)) {
    throw new RepointError('METADATA_INVALID', `${where}: malformed ${algo} checksum`, { algo, value: hex.slice(0, 200) });
  }
  return { algo, hex };
}
