import { schedule, type ScheduledTask } from 'node-cron';
import type { Catalogue } from '../checkpoints/catalogue.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import { redactUrl } from '../formats/http/redact.ts';
import type { Keyring } from '../trust/keyring.ts';
import { loadTrustedKeys } from './trusted-keys.ts';
import type { Signer } from '../trust/signer.ts';
import type { BundleSupport } from './bundle-support.ts';
import { pullBundle } from './pull.ts';
import { readSecretFile } from '../upstream/credentials.ts';

export interface ImportScheduleDeps {
  config: Config;
  types: ReadonlyMap<string, BundleSupport>;
  content: ContentService;
  catalogue: Catalogue;
  signer: Signer;
  log: Logger;
  /** This serving node's base URL (publicUrl, else its bound listen address), for Snapshots:. */
  publicUrl: () => string;
}

/**
 * remotes.<name>.importFrom: pulls checkpoints from another repoint on a cron schedule (a DMZ tier,
 * chained mirrors). One pull per remote at a time; a failed pull publishes nothing and the next one
 * tries again.
 */
export function startImportSchedules(deps: ImportScheduleDeps): () => Promise<void> {
  const tasks: ScheduledTask[] = [];
  const stopping = new AbortController();
  const pulls = new Set<Promise<void>>();
  let trusted: Promise<Keyring> | undefined;
  for (const remote of deps.config.remotes.values()) {
    const from = remote.importFrom;
    if (!from || remote.unavailable) continue;
    // child() bindings bypass the logger's URL redaction: never a query string or credentials here
    const log = deps.log.child({ remote: remote.name, importFrom: redactUrl(from.url, { query: 'drop' }) });
    let running = false;
    const pull = async (): Promise<void> => {
      try {
        trusted ??= loadTrustedKeys(deps.config);
        // read at each pull, so a rotated token file is picked up without a restart
        const token = from.tokenFile !== undefined ? await readSecretFile(`remotes.${remote.name}.importFrom.tokenFile`, from.tokenFile) : from.token;
        const r = await pullBundle({
          config: deps.config, types: deps.types, content: deps.content, catalogue: deps.catalogue, signer: deps.signer,
          trusted: await trusted, baseUrl: deps.publicUrl(), log, remote: remote.name, url: from.url,
          ...(token ? { token } : {}), signal: stopping.signal,
        });
        if (r === 'up-to-date') log.debug('import: up to date');
        else log.info('import: pulled', { published: r.published.map((e) => e.ts), blobs: r.written.files, bytes: r.written.bytes });
      } catch (err) {
        trusted = undefined; // a key file fixed on disk is read again next time
        if (stopping.signal.aborted) log.info('import stopped by shutdown; nothing published');
        else log.error('import failed; nothing published, the next run tries again', { reason: (err as Error).message });
      }
    };
    tasks.push(schedule(from.schedule, async () => {
      if (running || stopping.signal.aborted) return;
      running = true;
      const p = pull().finally(() => { running = false; pulls.delete(p); });
      pulls.add(p);
      await p;
    }, { name: `import:${remote.name}`, noOverlap: true }));
    log.info('import schedule', { schedule: from.schedule });
  }
  // Shutdown: no new pull, the running ones are cut off (their bundle is refused as truncated: nothing
  // is published) and waited for, before the stores they write to are closed.
  return async () => {
    for (const t of tasks) void t.stop();
    stopping.abort();
    await Promise.allSettled(pulls);
  };
}

