import { schedule, type ScheduledTask } from 'node-cron';
import type { Catalogue } from '../checkpoints/catalogue.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import { loadKeyring, type Keyring } from '../trust/keyring.ts';
import type { Signer } from '../trust/signer.ts';
import type { BundleSupport } from './bundle-support.ts';
import { pullBundle } from './pull.ts';
import { publicBase } from './public-base.ts';

export interface ImportScheduleDeps {
  config: Config;
  types: ReadonlyMap<string, BundleSupport>;
  content: ContentService;
  catalogue: Catalogue;
  signer: Signer;
  log: Logger;
}

/**
 * remotes.<name>.importFrom: pulls checkpoints from another repoint on a cron schedule (a DMZ tier,
 * chained mirrors). One pull per remote at a time; a failed pull publishes nothing and the next one
 * tries again.
 */
export function startImportSchedules(deps: ImportScheduleDeps): () => void {
  const tasks: ScheduledTask[] = [];
  let trusted: Promise<Keyring> | undefined;
  for (const remote of deps.config.remotes.values()) {
    const from = remote.importFrom;
    if (!from || remote.unavailable) continue;
    const log = deps.log.child({ remote: remote.name, importFrom: from.url });
    let running = false;
    tasks.push(schedule(from.schedule, async () => {
      if (running) return;
      running = true;
      try {
        trusted ??= loadKeyring(deps.config.import.trustedKeys);
        const r = await pullBundle({
          config: deps.config, types: deps.types, content: deps.content, catalogue: deps.catalogue, signer: deps.signer,
          trusted: await trusted, baseUrl: publicBase(deps.config), log, remote: remote.name, url: from.url,
          ...(from.token ? { token: from.token } : {}),
        });
        if (r === 'up-to-date') log.debug('import: up to date');
        else log.info('import: pulled', { published: r.published.map((e) => e.ts), blobs: r.written.files, bytes: r.written.bytes });
      } catch (err) {
        trusted = undefined; // a key file fixed on disk is read again next time
        log.error('import failed; nothing published, the next run tries again', { reason: (err as Error).message });
      } finally {
        running = false;
      }
    }, { name: `import:${remote.name}`, noOverlap: true }));
    log.info('import schedule', { schedule: from.schedule });
  }
  return () => { for (const t of tasks) void t.stop(); };
}
