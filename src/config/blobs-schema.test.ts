import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeBlobs } from './blobs-schema.ts';
import { loadConfig } from './load.ts';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-blobs-config-'));
});

async function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `c${n++}.yaml`);
  await writeFile(file, `${yaml}remotes:\n  f:\n    type: yum\n    upstream: "https://127.0.0.1:1"\n`);
  return loadConfig(file, env);
}

async function refusal(yaml: string): Promise<string> {
  return load(yaml).then(() => expect.unreachable('accepted'), (err: Error) => err.message);
}

const REDIS = 'state: "redis://127.0.0.1:6379/0"\n';
const S3 = `${REDIS}blobs:\n  type: s3\n  endpoint: "http://127.0.0.1:7480/"\n  bucket: repoint\n  accessKeyId: AKID\n  secretAccessKey: "s3cr3t-value"\n  forcePathStyle: true\n`;

describe('blobs config', () => {
  it('defaults to the filesystem', async () => {
    expect((await load('')).blobs).toEqual({ type: 'fs' });
  });

  it('parses the s3 block as in the issue, region from AWS_REGION or us-east-1', async () => {
    expect((await load(S3)).blobs).toEqual({ type: 's3', endpoint: 'http://127.0.0.1:7480', bucket: 'repoint', region: 'us-east-1', accessKeyId: 'AKID', secretAccessKey: 's3cr3t-value', forcePathStyle: true, redirect: false });
    expect((await load(`${REDIS}blobs: { type: s3, bucket: b, redirect: true }\n`, { AWS_REGION: 'eu-west-1' })).blobs)
      .toEqual({ type: 's3', bucket: 'b', region: 'eu-west-1', forcePathStyle: false, redirect: true });
  });

  it.each([
    ['s3 without a bucket', `${REDIS}blobs: { type: s3 }\n`, /^blobs\.bucket: required for type s3/],
    ['s3 keys on fs', 'blobs: { bucket: b }\n', /^blobs\.bucket: only for type s3/],
    ['redirect on fs', 'blobs: { redirect: true }\n', /^blobs\.redirect: only for type s3/],
    ['half the credentials', `${REDIS}blobs: { type: s3, bucket: b, accessKeyId: AKID }\n`, /^blobs\.secretAccessKey: set accessKeyId and secretAccessKey together/],
    ['credentials in the endpoint', `${REDIS}blobs: { type: s3, bucket: b, endpoint: "http://u:p@127.0.0.1:1" }\n`, /^blobs\.endpoint: no credentials in the URL/],
    ['s3 on sqlite state', 'blobs: { type: s3, bucket: b }\n', /^blobs\.type: type s3 needs `state:` on Redis/],
    ['a typo', `${REDIS}blobs: { type: s3, bucket: b, forcePathstyle: true }\n`, /^blobs: unknown key "forcePathstyle"/],
  ])('refuses %s, naming the key', async (_what, yaml, message) => {
    expect(await refusal(yaml)).toMatch(message);
  });

  it('never shows a secret, even in an error about it', async () => {
    const msg = await refusal(`${REDIS}blobs: { type: s3, bucket: b, accessKeyId: AKID, secretAccessKey: 12345678 }\n`);
    expect(msg).toMatch(/^blobs\.secretAccessKey: /);
    expect(msg).not.toContain('12345678');
    const shown = JSON.stringify(describeBlobs((await load(S3)).blobs));
    expect(shown).toContain('repoint');
    expect(shown).not.toContain('s3cr3t-value');
    expect(shown).not.toContain('AKID');
  });
});
