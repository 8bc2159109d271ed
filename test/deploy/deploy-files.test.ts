// deploy/ cannot be run here (no Docker or Kubernetes): parse it and check that its parts fit
// together and that the node config they ship is one repoint accepts.
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';

const deploy = join(import.meta.dirname, '..', '..', 'deploy');
const presets = join(import.meta.dirname, '..', '..', 'config', 'presets');

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Loads a node config as repoint would, with the image's /app/config/presets mapped to this checkout. */
async function loadNodeConfig(text: string) {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-deploy-'));
  const file = join(dir, 'mirror.yaml');
  await writeFile(file, text.replaceAll('/app/config/presets', presets));
  return loadConfig(file, {});
}

describe('deploy/compose.yaml', () => {
  const compose = obj(parse(readFileSync(join(deploy, 'compose.yaml'), 'utf8'), { merge: true })); // compose applies <<: merge keys
  const services = obj(compose.services);
  const nodes = ['repoint1', 'repoint2', 'repoint3'];

  it('has three repoint nodes, Redis, an S3 server and a load balancer', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining([...nodes, 'redis', 's3', 'lb']));
    const nginx = readFileSync(join(deploy, 'nginx.conf'), 'utf8');
    for (const n of nodes) expect(nginx).toContain(`server ${n}:8080`);
    expect(list(obj(services.lb).volumes)).toContain('./nginx.conf:/etc/nginx/conf.d/default.conf:ro');
  });

  it('nodes share the config and the key volume, each with its own data volume and hostname, ready on /-/ready', () => {
    const data = new Set<string>();
    const hosts = new Set<string>();
    for (const n of nodes) {
      const s = obj(services[n]);
      const volumes = list(s.volumes).map(String);
      expect(volumes).toEqual(expect.arrayContaining(['./mirror.yaml:/etc/repoint/mirror.yaml:ro', 'keys:/keys']));
      data.add(volumes.find((v) => v.endsWith(':/data')) ?? '');
      hosts.add(String(s.hostname));
      expect(obj(s.environment).REPOINT_CONFIG).toBe('/etc/repoint/mirror.yaml');
      expect(JSON.stringify(obj(s.healthcheck).test)).toContain('/-/ready');
      expect(Object.keys(obj(s.depends_on))).toEqual(expect.arrayContaining(['redis', 's3-bucket', 'keys-owner']));
    }
    expect(data.size).toBe(3);
    expect(hosts).toEqual(new Set(nodes));
    for (const v of ['keys', 'data1', 'data2', 'data3']) expect(Object.keys(obj(compose.volumes))).toContain(v);
  });

  it('ships a node config repoint accepts: s3 blobs on the compose S3 server, Redis state, the shared key', async () => {
    const c = await loadNodeConfig(readFileSync(join(deploy, 'mirror.yaml'), 'utf8'));
    expect(c.blobs).toMatchObject({ type: 's3', endpoint: 'http://s3:9000', bucket: 'repoint', forcePathStyle: true });
    expect(c.blobs.type === 's3' && c.blobs.secretAccessKey).toBeFalsy(); // from the environment
    expect(c.state.backend).toBe('redis://redis:6379/0');
    expect(c.signing.keyPath).toBe('/keys/mirror.asc');
    expect(c.remotes.size).toBeGreaterThan(0);
  });

  it('the lifecycle rule aborts incomplete multipart uploads under the blob prefix', () => {
    const rule = obj(list(obj(JSON.parse(readFileSync(join(deploy, 's3-lifecycle.json'), 'utf8'))).Rules)[0]);
    expect(obj(rule.Filter).Prefix).toBe('sha256/');
    expect(obj(rule.AbortIncompleteMultipartUpload).DaysAfterInitiation).toBeGreaterThanOrEqual(1);
  });
});

describe('deploy/k8s', () => {
  const docs = readdirSync(join(deploy, 'k8s')).filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(deploy, 'k8s', f), 'utf8')).map((d) => obj(d.toJS())));
  const kind = (k: string): Obj => {
    const found = docs.filter((d) => d.kind === k);
    expect(found, k).toHaveLength(1);
    return found[0]!;
  };
  const deployment = kind('Deployment');
  const spec = obj(deployment.spec);
  const pod = obj(obj(spec.template).spec);
  const container = obj(list(pod.containers)[0]);
  const secret = kind('Secret');

  it('a Deployment with liveness on /-/health and readiness on /-/ready', () => {
    expect(obj(obj(container.livenessProbe).httpGet).path).toBe('/-/health');
    expect(obj(obj(container.readinessProbe).httpGet).path).toBe('/-/ready');
    expect(obj(obj(spec.template).metadata).labels).toEqual(obj(spec.selector).matchLabels);
    expect(spec.replicas).toBe(3);
  });

  it('a PodDisruptionBudget and a Service that select the Deployment\'s pods', () => {
    const pdb = obj(kind('PodDisruptionBudget').spec);
    expect(obj(pdb.selector).matchLabels).toEqual(obj(spec.selector).matchLabels);
    expect(Number(pdb.minAvailable)).toBeLessThan(Number(spec.replicas));
    expect(Number(pdb.minAvailable)).toBeGreaterThan(0);
    expect(obj(kind('Service').spec).selector).toEqual(obj(spec.selector).matchLabels);
  });

  it('a Secret holds the S3 credentials and the key; every reference to it exists', () => {
    const keys = Object.keys(obj(secret.stringData));
    const refs = list(container.env).map((e) => obj(obj(obj(e).valueFrom).secretKeyRef)).filter((r) => r.name);
    expect(new Set(refs.map((r) => r.key))).toEqual(new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']));
    for (const r of refs) expect([r.name, keys.includes(String(r.key))]).toEqual([obj(secret.metadata).name, true]);
    const keyVolume = obj(list(pod.volumes).find((v) => obj(obj(v).secret).secretName));
    for (const item of list(obj(keyVolume.secret).items)) expect(keys).toContain(obj(item).key);
  });

  it('the ConfigMap\'s config loads, signs with the key from the Secret mount, and keeps credentials out of it', async () => {
    const text = String(obj(kind('ConfigMap').data)['mirror.yaml']);
    const c = await loadNodeConfig(text);
    expect(c.blobs.type).toBe('s3');
    expect(c.blobs.type === 's3' && c.blobs.accessKeyId).toBeFalsy();
    expect(c.state.backend).toMatch(/^redis:/);
    const mounts = list(container.volumeMounts).map(obj);
    const keyMount = mounts.find((m) => m.name === obj(list(pod.volumes).find((v) => obj(obj(v).secret).secretName)).name);
    expect(c.signing.keyPath).toBe(`${String(keyMount?.mountPath)}/mirror.asc`);
    expect(mounts.find((m) => m.mountPath === '/data')).toBeDefined();
    expect(String(list(container.args)[0])).toContain('--config /tmp/mirror.yaml');
  });
});
