import { publicBaseUrl } from '../config/public-url.ts';
import type { Config } from '../config/types.ts';
import { stateKeys } from '../state/keys.ts';
import type { StateStore } from '../state/state-store.ts';

/**
 * The base URL an import writes into `Snapshots:` when it runs as its own process: publicUrl, else
 * the address the serving node recorded when it started listening (its bound port: listen :0, or
 * PORT), else the configured listen address.
 */
export async function importBase(config: Config, state: StateStore): Promise<string> {
  if (config.publicUrl !== undefined) return config.publicUrl;
  return (await state.get<string>(stateKeys.servedBase)) ?? publicBaseUrl(config);
}
