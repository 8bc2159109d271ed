import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';

describe('log (pino)', () => {
  it('writes flat JSON lines with level and time, and never URL credentials', () => {
    const out: string[] = [];
    const log = createLogger('info', { remote: 'deb' }, (l) => out.push(l));
    log.debug('not written');
    log.warn('upstream request failed', { url: 'https://mirror:s3cret@repo.example/apt/x', reason: 'fetch https://a:b@h/ failed' });
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', remote: 'deb', msg: 'upstream request failed', url: 'https://***@repo.example/apt/x' });
    expect(out[0]).not.toContain('s3cret');
    expect(out[0]).not.toContain('a:b@');
  });

  it('access lines have time first and no level or msg; off writes none', () => {
    const out: string[] = [];
    createLogger('error', {}, (l) => out.push(l)).access({ reqId: 'r', remote: 'deb', method: 'GET', path: '/deb/x', status: 200, bytes: 3, cache: 'hit', ms: 0.5 });
    expect(out).toHaveLength(1); // whatever the level
    expect(Object.keys(JSON.parse(out[0]!) as object)).toEqual(['time', 'reqId', 'remote', 'method', 'path', 'status', 'bytes', 'cache', 'ms']);
    const none: string[] = [];
    createLogger('info', {}, (l) => none.push(l), 'off').access({ reqId: 'r', remote: 'deb', method: 'GET', path: '/', status: 200, bytes: 0, cache: 'hit', ms: 0 });
    expect(none).toEqual([]);
  });
});

describe('access log file', () => {
  it('appends access lines to accessLog.file, and a file that cannot be opened fails at start naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repoint-log-'));
    const file = join(dir, 'sub', 'access.log');
    const log = createLogger('info', {}, undefined, { file });
    log.access({ reqId: 'r', remote: 'deb', method: 'GET', path: '/deb/x', status: 200, bytes: 3, cache: 'hit', ms: 0.5 });
    log.flush();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ reqId: 'r', cache: 'hit' });
    expect(() => createLogger('info', {}, undefined, { file: join(file, 'not-a-dir', 'x.log') })).toThrow(/^accessLog\.file: cannot open/);
  });
});
