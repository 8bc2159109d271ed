import type { Config } from '../config/types.ts';
import { RepointError } from '../errors.ts';
import { loadKeyring, type Keyring } from '../trust/keyring.ts';

const HINT = "copy the exporting node's /-/keys/mirror.asc there, or fix the path";

/** import.trustedKeys as a keyring; errors name the config key and the fix (a missing file, not a key). */
export async function loadTrustedKeys(config: Config): Promise<Keyring> {
  if (config.import.trustedKeys.length === 0) {
    throw new RepointError('CONFIG_INVALID', 'import.trustedKeys: no trusted keys configured; add the exporting node\'s public key file (its /-/keys/mirror.asc)');
  }
  return loadKeyring(config.import.trustedKeys).catch((err: unknown) => {
    throw new RepointError('CONFIG_INVALID', `import.trustedKeys: ${(err as Error).message} (${HINT})`, {}, { cause: err });
  });
}
