import type { ExportSelection } from '../bundles/exporter.ts';
import { RepointError } from '../errors.ts';

const KEYS = new Set(['since', 'checkpoint', 'all']);
const TS = /^\d{8}T\d{6}Z$/;

/**
 * The export route's query, strictly: a misspelt `sinse=` or `all=yes` would otherwise quietly give a
 * full bundle of the newest checkpoint, which a chained mirror would import without anyone noticing.
 */
export function exportSelectionOf(params: URLSearchParams): ExportSelection {
  const bad = (why: string): never => { throw new RepointError('BAD_QUERY', `export: ${why}; accepted: since=<TS>, checkpoint=<TS>, all=1`); };
  for (const key of new Set(params.keys())) {
    if (!KEYS.has(key)) bad(`unknown parameter "${key}"`);
    if (params.getAll(key).length > 1) bad(`"${key}" given more than once`);
  }
  const ts = (key: string): string | undefined => {
    const v = params.get(key);
    if (v === null) return undefined;
    return TS.test(v) ? v : bad(`${key}: expected a checkpoint timestamp like 20260101T000000Z, got "${v.slice(0, 40)}"`);
  };
  const since = ts('since');
  const checkpoint = ts('checkpoint');
  const rawAll = params.get('all');
  const all = rawAll === null || rawAll === '0' || rawAll === 'false' ? false
    : rawAll === '1' || rawAll === 'true' ? true
      : bad(`all: expected 1 or 0, got "${rawAll.slice(0, 40)}"`);
  if (all && checkpoint !== undefined) bad('checkpoint and all=1 exclude each other');
  return { ...(since !== undefined ? { since } : {}), ...(checkpoint !== undefined ? { checkpoint } : {}), all };
}
