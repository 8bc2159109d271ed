import { openBundleSource } from '../bundles/bundle-files.ts';
import { verifyBundle } from '../bundles/verify-bundle.ts';
import { RepointError } from '../errors.ts';
import { repositoryTypes } from '../registry.ts';
import { loadKeyring } from '../trust/keyring.ts';
import { formatBytes } from './progress.ts';

/** `repoint bundle verify FILE.tar`: signature, every hash, completeness; no data dir is touched (for the transfer station). */
export async function runBundle(keys: readonly string[], args: string[], timeoutMs?: number): Promise<number> {
  const [sub, file] = args;
  if (sub !== 'verify' || !file) {
    process.stderr.write('usage: repoint bundle verify FILE.tar | FILE.tar.000 | - [--key FILE]...\n');
    return 2;
  }
  if (keys.length === 0) throw new RepointError('CONFIG_INVALID', 'no trusted keys: pass --key FILE (the exporting node\'s /-/keys/mirror.asc) or set import.trustedKeys');
  const trusted = await loadKeyring(keys);
  const source = await openBundleSource(file, timeoutMs === undefined ? {} : { timeoutMs });
  if (source.kind !== 'stream') throw new RepointError('INTERNAL', `unexpected source ${source.name}`);
  const started = Date.now();
  const r = await verifyBundle(source.stream, trusted, repositoryTypes);
  const m = r.manifest;
  process.stdout.write(`OK ${source.name}: ${m.remote.type} remote ${m.remote.name}, checkpoints ${m.checkpoints.map((c) => c.ts).join(', ')}`
    + `${m.since ? ` (incremental since ${m.since.ts}, ${m.since.blobs.length} blobs from the base)` : ''}; ${m.totals.count} blobs, ${formatBytes(m.totals.bytes)} verified; `
    + `${r.packages} packages listed, all present; signed by ${r.signers.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return 0;
}
