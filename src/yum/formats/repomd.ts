import type { SaxesTagNS } from 'saxes';
import { RepointError } from '../../errors.ts';
import { parseYumChecksum } from './checksum.ts';
import type { YumChecksum } from './checksum.ts';
import { REPO_NS, attr, isOurs, newNsParser, parseCount, toMetadataError, xmlBase } from './xml.ts';

export interface RepomdData {
  /** primary, filelists, other, primary_db, *_zck, updateinfo, group_gz, modules, … */
  type: string;
  /** The `<location href>`, relative to the repository base (or to xmlBase). */
  location: string;
  xmlBase?: string;
  checksum: YumChecksum;
  openChecksum?: YumChecksum;
  size?: number;
  openSize?: number;
  timestamp?: number;
  headerChecksum?: YumChecksum;
  headerSize?: number;
}

export interface Repomd {
  revision?: string;
  data: RepomdData[];
  /** Largest data `<timestamp>`: a newer repomd must not go below it (rollback check). */
  maxTimestamp?: number;
}

type TextField = 'revision' | 'checksum' | 'openChecksum' | 'headerChecksum' | 'size' | 'openSize' | 'timestamp' | 'headerSize';

const DATA_CHILD: Readonly<Record<string, TextField>> = {
  checksum: 'checksum',
  'open-checksum': 'openChecksum',
  'header-checksum': 'headerChecksum',
  size: 'size',
  'open-size': 'openSize',
  timestamp: 'timestamp',
  'header-size': 'headerSize',
};

interface DataDraft {
  type: string;
  location?: string;
  xmlBase?: string;
  texts: Partial<Record<TextField, { text: string; type?: string }>>;
}

/** Parses repomd.xml. Throws METADATA_INVALID on malformed XML or incomplete data entries. */
export function parseRepomd(xml: string): Repomd {
  const parser = newNsParser(true);
  const result: Repomd = { data: [] };
  let depth = 0;
  let draft: DataDraft | undefined;
  let collecting: { field: TextField; depth: number; type?: string; text: string } | undefined;

  parser.on('opentag', (tag) => {
    depth++;
    if (depth === 1) {
      if (!isOurs(tag, REPO_NS, 'repomd')) fail(`root element is <${tag.name}>, expected <repomd>`);
    } else if (depth === 2) {
      if (isOurs(tag, REPO_NS, 'revision')) collecting = { field: 'revision', depth, text: '' };
      else if (isOurs(tag, REPO_NS, 'data')) draft = openData(tag);
    } else if (depth === 3 && draft !== undefined && collecting === undefined) {
      if (isOurs(tag, REPO_NS, 'location')) {
        if (draft.location !== undefined) fail(`data ${draft.type}: duplicate <location>`);
        const href = attr(tag, 'href');
        if (href === undefined || href === '') fail(`data ${draft.type}: <location> without href`);
        draft.location = href;
        const base = xmlBase(tag);
        if (base !== undefined) draft.xmlBase = base;
      } else if (Object.hasOwn(DATA_CHILD, tag.local) && isOurs(tag, REPO_NS, tag.local)) {
        const field = DATA_CHILD[tag.local];
        if (field !== undefined) {
          if (draft.texts[field] !== undefined) fail(`data ${draft.type}: duplicate <${tag.local}>`);
          const type = attr(tag, 'type');
          collecting = type === undefined ? { field, depth, text: '' } : { field, depth, type, text: '' };
        }
      }
    }
  });
  const onText = (t: string): void => {
    if (collecting !== undefined) collecting.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (collecting !== undefined && depth === collecting.depth) {
      const done = collecting;
      collecting = undefined;
      if (done.field === 'revision') result.revision = done.text.trim();
      else if (draft !== undefined) draft.texts[done.field] = done.type === undefined ? { text: done.text } : { text: done.text, type: done.type };
    } else if (depth === 2 && draft !== undefined && collecting === undefined) {
      result.data.push(finishData(draft));
      draft = undefined;
    }
    depth--;
  });

  try {
    parser.write(xml).close();
  } catch (err) {
    throw toMetadataError(err, 'repomd.xml');
  }
  for (const d of result.data) {
    if (d.timestamp !== undefined && (result.maxTimestamp === undefined || d.timestamp > result.maxTimestamp)) {
      result.maxTimestamp = d.timestamp;
    }
  }
  return result;
}

function fail(message: string): never {
  throw new RepointError('METADATA_INVALID', `repomd.xml: ${message}`);
}

function openData(tag: SaxesTagNS): DataDraft {
  const type = attr(tag, 'type');
  if (type === undefined || type.trim() === '') fail('<data> without a type');
  return { type, texts: {} };
}

function finishData(d: DataDraft): RepomdData {
  const where = `repomd.xml data ${d.type}`;
  const sum = d.texts.checksum;
  if (sum === undefined) fail(`data ${d.type}: missing <checksum>`);
  if (d.location === undefined) fail(`data ${d.type}: missing <location>`);
  const out: RepomdData = { type: d.type, location: d.location, checksum: parseYumChecksum(sum.type, sum.text, where) };
  if (d.xmlBase !== undefined) out.xmlBase = d.xmlBase;
  const open = d.texts.openChecksum;
  if (open !== undefined) out.openChecksum = parseYumChecksum(open.type, open.text, `${where} open-checksum`);
  const header = d.texts.headerChecksum;
  if (header !== undefined) out.headerChecksum = parseYumChecksum(header.type, header.text, `${where} header-checksum`);
  const size = count(d, 'size');
  if (size !== undefined) out.size = size;
  const openSize = count(d, 'openSize');
  if (openSize !== undefined) out.openSize = openSize;
  const headerSize = count(d, 'headerSize');
  if (headerSize !== undefined) out.headerSize = headerSize;
  const ts = d.texts.timestamp;
  if (ts !== undefined) out.timestamp = parseTimestamp(ts.text, d.type);
  return out;
}

function count(d: DataDraft, field: 'size' | 'openSize' | 'headerSize'): number | undefined {
  const t = d.texts[field];
  if (t === undefined) return undefined;
  const n = parseCount(t.text);
  if (n === undefined) fail(`data ${d.type}: bad ${field} ${JSON.stringify(t.text.trim().slice(0, 40))}`);
  return n;
}

/** Epoch seconds; old createrepo wrote fractional seconds, so accept them. */
function parseTimestamp(text: string, type: string): number {
  const s = text.trim();
  const n = Number(s);
  if (!/^\d{1,15}(\.\d{1,9})?$/.test(s) || !Number.isFinite(n)) fail(`data ${type}: bad timestamp ${JSON.stringify(s.slice(0, 40))}`);
  return n;
}
