import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { errCode } from './fs-durable.ts';

/**
 * The few file calls bulk blob access makes, as promises either way: `sync` runs the system call
 * on the calling thread (a CLI command that owns its process: no thread-pool round trip and no
 * lock contention between pool threads per file), `async` goes through libuv's pool (a serving
 * process, whose event loop must not block).
 */
export interface FileOps {
  /** Exclusive create for writing; returns a descriptor. */
  create(path: string): Promise<number>;
  write(fd: number, data: Uint8Array): Promise<void>;
  close(fd: number): Promise<void>;
  /** The whole file, when its size is at most max (else undefined, read nothing); ENOENT rejects. `exact`: read max bytes, no stat. */
  readSmall(path: string, max: number, exact?: boolean): Promise<Buffer | undefined>;
  /** Exactly target.length bytes from the start of the file into target (a shorter file rejects). */
  readInto(path: string, target: Uint8Array): Promise<void>;
  size(path: string): Promise<number | undefined>;
  mkdirp(dir: string): Promise<boolean>;
  /** The names in a directory; [] when it does not exist. */
  list(dir: string): Promise<string[]>;
  link(from: string, to: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  fsync(path: string): Promise<void>;
}

function readFd(fd: number, size: number, buf: Uint8Array = Buffer.allocUnsafe(size)): Buffer {
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, buf, off, size - off, off);
    if (n === 0) throw new Error(`file ended after ${off} of ${size} bytes`);
    off += n;
  }
  return buf as Buffer;
}

const missing = (err: unknown): undefined => {
  if (errCode(err) === 'ENOENT') return undefined;
  throw err;
};

export const syncOps: FileOps = {
  create: async (path) => fs.openSync(path, 'ax'),
  write: async (fd, data) => {
    for (let off = 0; off < data.byteLength;) off += fs.writeSync(fd, data, off, data.byteLength - off);
  },
  close: async (fd) => fs.closeSync(fd),
  readSmall: async (path, max, exact) => {
    const fd = fs.openSync(path, 'r');
    try {
      const size = exact ? max : fs.fstatSync(fd).size;
      return size > max ? undefined : readFd(fd, size);
    } finally {
      fs.closeSync(fd);
    }
  },
  readInto: async (path, target) => {
    const fd = fs.openSync(path, 'r');
    try {
      readFd(fd, target.byteLength, target);
    } finally {
      fs.closeSync(fd);
    }
  },
  size: async (path) => fs.statSync(path, { throwIfNoEntry: false })?.size, // no exception per missing blob
  mkdirp: async (dir) => fs.mkdirSync(dir, { recursive: true }) !== undefined,
  list: async (dir) => {
    try {
      return fs.readdirSync(dir);
    } catch (err) {
      return missing(err) ?? [];
    }
  },
  link: async (from, to) => fs.linkSync(from, to),
  rename: async (from, to) => fs.renameSync(from, to),
  unlink: async (path) => fs.unlinkSync(path),
  fsync: async (path) => {
    const fd = fs.openSync(path, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
};

export const asyncOps: FileOps = {
  create: (path) => new Promise((resolve, reject) => fs.open(path, 'ax', (err, fd) => (err ? reject(err) : resolve(fd)))),
  write: (fd, data) => new Promise((resolve, reject) => {
    const step = (off: number): void => {
      if (off >= data.byteLength) return resolve();
      fs.write(fd, data, off, data.byteLength - off, null, (err, n) => (err ? reject(err) : step(off + n)));
    };
    step(0);
  }),
  close: (fd) => new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve()))),
  readSmall: async (path, max, exact) => {
    const fh = await fsp.open(path, 'r');
    try {
      const size = exact ? max : (await fh.stat()).size;
      if (size > max) return undefined;
      const buf = Buffer.allocUnsafe(size);
      for (let off = 0; off < size;) {
        const { bytesRead } = await fh.read(buf, off, size - off, off);
        if (bytesRead === 0) throw new Error(`file ended after ${off} of ${size} bytes`);
        off += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  },
  readInto: async (path, target) => {
    const fh = await fsp.open(path, 'r');
    try {
      for (let off = 0; off < target.byteLength;) {
        const { bytesRead } = await fh.read(target, off, target.byteLength - off, off);
        if (bytesRead === 0) throw new Error(`file ended after ${off} of ${target.byteLength} bytes`);
        off += bytesRead;
      }
    } finally {
      await fh.close();
    }
  },
  size: async (path) => (await fsp.stat(path).catch(missing))?.size,
  mkdirp: async (dir) => (await fsp.mkdir(dir, { recursive: true })) !== undefined,
  list: async (dir) => (await fsp.readdir(dir).catch(missing)) ?? [],
  link: (from, to) => fsp.link(from, to),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  fsync: async (path) => {
    const fh = await fsp.open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

let syncfsWorks: boolean | undefined;

/**
 * One durability barrier for everything written to the filesystem holding `dir` (syncfs(2), through
 * coreutils `sync -f`): one journal commit instead of one fsync per file, which on ext4 costs a
 * commit each. Where `sync -f` is missing or fails, each file in `fallback` is fsynced instead.
 */
export async function syncFileSystem(dir: string, fallback: readonly string[], ops: FileOps): Promise<void> {
  if (syncfsWorks !== false) {
    const ok = await new Promise<boolean>((resolve) => {
      execFile('sync', ['-f', dir], { timeout: 600_000 }, (err) => resolve(err === null));
    });
    if (ok) {
      syncfsWorks = true;
      return;
    }
    syncfsWorks ??= false;
  }
  for (const path of fallback) await ops.fsync(path);
}
