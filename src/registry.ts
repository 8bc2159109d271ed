import { apt } from './apt/index.ts';
import type { PinSources } from './checkpoints/pins.ts';
import type { Config, RemoteType } from './config/types.ts';
import type { RepositoryType } from './repository-type.ts';
import { yum } from './yum/index.ts';

/** Every repository type this build serves. A new type is one folder and one entry here. */
export const repositoryTypes: ReadonlyMap<RemoteType, RepositoryType> = new Map([apt, yum].map((t) => [t.name, t]));

/** What GC needs to find every blob the configured remotes' kept checkpoints pin. */
export function pinSources(config: Config): PinSources {
  return {
    remotes: [...config.remotes.values()].map((r) => ({ name: r.name, type: r.type, upstreams: r.upstreams })),
    readers: repositoryTypes,
  };
}
