import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../test/helpers/ports.ts';
import { waitForHttp } from './http.ts';
import type { Procs } from './procs.ts';

const MAIN = resolve(import.meta.dirname, '..');
const NODE = join(MAIN, 'node_modules/.bin/node');

export interface RepointProc {
  url: string;
  child: ChildProcess;
  dataDir: string;
  logFile: string;
  health(): Promise<HealthReport>;
  memory(): Promise<Memory>;
  /** user + system CPU time the process has used so far */
  cpuMs(): Promise<number>;
  /** Resets VmHWM to the current RSS, so the next memory() reports the peak of one phase. */
  resetPeak(): Promise<void>;
}

export interface HealthReport {
  remotes: Array<{ name: string; type: string }>;
}

/** VmHWM is the peak resident set since the process started; VmRSS the current one. */
export interface Memory {
  hwmKiB: number;
  rssKiB: number;
}

export interface RepointOptions {
  dir: string;
  remotes: Record<string, Record<string, unknown>>;
  /** when set, repoint runs with --cpu-prof and writes its profile here on exit */
  cpuProfDir?: string;
  /** another checkout to run repoint from (to compare two commits); default: this one */
  checkout?: string;
}

/** Starts `repoint serve` as its own process (so its memory is its own) on a free port. */
export async function startRepoint(procs: Procs, o: RepointOptions): Promise<RepointProc> {
  const dataDir = join(o.dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const configPath = join(o.dir, 'mirror.yaml');
  await writeFile(configPath, stringify({ listen: `127.0.0.1:${port}`, dataDir, logLevel: 'warn', remotes: o.remotes }));
  const logFile = join(o.dir, 'repoint.log');
  const prof = o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [];
  const main = join(o.checkout ?? MAIN, 'src/cli/main.ts');
  const child = procs.spawnServer(NODE, [...prof, main, 'serve', '--config', configPath], logFile);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/health`, child, logFile);
  const pid = child.pid;
  if (pid === undefined) throw new Error('repoint has no pid');
  return {
    url,
    child,
    dataDir,
    logFile,
    health: async () => {
      const res = await fetch(`${url}/-/health`);
      if (res.status !== 200) throw new Error(`health: status ${res.status}`);
      return (await res.json()) as HealthReport;
    },
    memory: () => readMemory(pid),
    cpuMs: () => readCpuMs(pid),
    resetPeak: () => writeFile(`/proc/${pid}/clear_refs`, '5'),
  };
}

export async function readMemory(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m?.[1]) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]);
  };
  return { hwmKiB: field('VmHWM'), rssKiB: field('VmRSS') };
}

/** utime + stime from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms). */
export async function readCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
