import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Who wrote a temp file, encoded in its name, so that another process can prove the writer is gone
 * before removing it. A name is `<host>.<pid>.<start>.<instance>.<random>.part`:
 * - host: a hash of this machine's boot id and pid namespace. Only when it equals ours is the pid
 *   meaningful to us (same kernel, same boot, same pid numbering); another host or container sharing
 *   the directory, or this host before a reboot, is judged by age alone.
 * - pid and start: the writer process and its start time in clock ticks since boot (Linux
 *   /proc/<pid>/stat), so a recycled pid is not mistaken for the writer.
 * - instance: the store instance within that process (a process may reopen its store).
 */
export interface TempOwner {
  host: string;
  pid: number;
  start: string;
  instance: string;
}

const NAME = /^([0-9a-f]{12})\.(\d+)\.(\d+|x)\.([0-9a-f]{8})\.[0-9a-f-]+\.part$/;

export function tempName(owner: TempOwner): string {
  return `${owner.host}.${owner.pid}.${owner.start}.${owner.instance}.${randomUUID()}.part`;
}

/** The owner a temp file name carries; undefined for names of another format (older versions). */
export function parseTempName(name: string): TempOwner | undefined {
  const m = NAME.exec(name);
  return m ? { host: m[1]!, pid: Number(m[2]), start: m[3]!, instance: m[4]! } : undefined;
}

/** This process: host tag, pid and start ticks ("x" where /proc is not available). */
export function currentProcess(): Omit<TempOwner, 'instance'> {
  return { host: hostTag(), pid: process.pid, start: startTicks(process.pid) ?? 'x' };
}

export function newInstanceId(): string {
  return randomUUID().slice(0, 8);
}

export type OwnerVerdict = 'alive' | 'gone' | 'unknown';

/**
 * Whether the owner of a temp file is still running, as far as this process can tell. `self` is
 * this process; `liveInstances` the store instances open in it. 'unknown' (another host, a reboot,
 * no /proc) leaves the decision to the age limit.
 */
export function ownerVerdict(owner: TempOwner, self: Omit<TempOwner, 'instance'>, liveInstances: ReadonlySet<string>, probe: ProcessProbe = systemProbe): OwnerVerdict {
  if (owner.host !== self.host) return 'unknown';
  if (owner.pid === self.pid && owner.start === self.start) return liveInstances.has(owner.instance) ? 'alive' : 'gone';
  if (!probe.exists(owner.pid)) return 'gone';
  if (owner.start === 'x') return 'unknown';
  const start = probe.startTicks(owner.pid);
  if (start === undefined) return 'unknown';
  return start === owner.start ? 'alive' : 'gone'; // the pid was recycled by another process
}

/** How processes on this host are looked at; replaced in tests. */
export interface ProcessProbe {
  exists(pid: number): boolean;
  startTicks(pid: number): string | undefined;
}

export const systemProbe: ProcessProbe = {
  exists(pid) {
    try {
      process.kill(pid, 0); // signal 0: only checks that the process exists
      return true;
    } catch (err) {
      // EPERM: it exists but belongs to another user
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
  startTicks,
};

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19]; // field 22 overall: starttime
    return start && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

let cachedHostTag: string | undefined;

/** Stable for this boot and pid namespace; a random value where neither can be read (never matches another). */
function hostTag(): string {
  if (cachedHostTag) return cachedHostTag;
  let boot: string;
  let pidns: string;
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    pidns = readlinkSync('/proc/self/ns/pid');
  } catch {
    boot = randomUUID();
    pidns = '';
  }
  cachedHostTag = createHash('sha256').update(`${boot}\n${pidns}`).digest('hex').slice(0, 12);
  return cachedHostTag;
}
