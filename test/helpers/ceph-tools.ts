import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Debian's python, which has python3-rados (a pyenv python3 first on PATH may not). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const MON_SCRIPT = fileURLToPath(new URL('./ceph-mon-commands.py', import.meta.url));

export type MonStep = { commands: Record<string, unknown>[] } | { osdUp: number } | { probe: string };

/** Runs a tool to completion; rejects with its output on a non-zero exit; killed on abort. */
export function tool(cmd: string, args: readonly string[], signal: AbortSignal, onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let out = '';
    let err = '';
    let pending = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!onLine) return;
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.once('close', (code, sig) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ').slice(0, 300)} exited ${sig ?? code}\n${out.slice(-4000)}${err.slice(-4000)}`));
    });
  });
}

/**
 * Monitor commands through one librados connection (test/helpers/ceph-mon-commands.py). `onStep(i)` runs
 * when step i has finished, while the later steps go on.
 */
export function monSteps(conf: string, steps: readonly MonStep[], signal: AbortSignal, onStep: (index: number) => void): Promise<void> {
  const onLine = (line: string): void => {
    const m = /^\{"done": (\d+)\}$/.exec(line.trim());
    if (m) onStep(Number(m[1]));
  };
  return tool(SYSTEM_PYTHON, [MON_SCRIPT, conf, JSON.stringify(steps)], signal, onLine).then(() => undefined);
}

/** The pools RGW would otherwise create one by one at its first start (a map change each). */
export const RGW_POOLS = [
  '.rgw.root',
  'default.rgw.control',
  'default.rgw.meta',
  'default.rgw.log',
  'default.rgw.buckets.index',
  'default.rgw.buckets.data',
  'default.rgw.buckets.non-ec',
] as const;
