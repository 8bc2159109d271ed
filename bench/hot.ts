import type { Agent } from 'undici';
import type { BenchFile } from './fixtures.ts';
import { mustGet } from './http.ts';
import type { Procs } from './procs.ts';
import { runWrk, type WrkOptions, type WrkResult } from './wrk.ts';

export const SERVERS = ['repoint', 'nginx proxy_cache', 'nginx static'] as const;
export type ServerName = (typeof SERVERS)[number];

/** Where each server serves the repository root (`<base>/<path in repo>`). */
export type Bases = Partial<Record<ServerName, string>>;

export interface HotCase {
  id: string;
  label: string;
  file: BenchFile;
  /** what the case is judged on */
  metric: 'req/s' | 'MiB/s';
  wrk: WrkOptions;
}

export interface HotResult {
  hotCase: HotCase;
  server: ServerName;
  wrk: WrkResult;
}

/** Fetches every case's file once through every server, so measured requests are hot hits. */
export async function warm(bases: Bases, cases: readonly HotCase[], agent: Agent): Promise<void> {
  for (const c of cases) {
    for (const base of Object.values(bases)) await mustGet(`${base}/${c.file.path}`, agent, c.file.size);
  }
}

/** Runs each case against each server, one wrk run at a time. */
export async function runHot(procs: Procs, bases: Bases, hotCase: HotCase, log: (line: string) => void): Promise<HotResult[]> {
  const out: HotResult[] = [];
  for (const server of SERVERS) {
    const base = bases[server];
    if (base === undefined) continue;
    const url = `${base}/${hotCase.file.path}`;
    log(`  wrk ${hotCase.id} via ${server} (-t${hotCase.wrk.threads} -c${hotCase.wrk.connections} -d${hotCase.wrk.durationS}s)`);
    out.push({ hotCase, server, wrk: await runWrk(procs, url, hotCase.wrk) });
  }
  return out;
}

export function valueOf(r: HotResult): number {
  return r.hotCase.metric === 'req/s' ? r.wrk.reqPerSec : r.wrk.bytesPerSec / 1024 ** 2;
}
