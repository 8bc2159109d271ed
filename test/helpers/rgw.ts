// A real S3 server for tests: Ceph's RADOS Gateway on a throwaway one-node cluster on loopback
// (a msgr2-only monitor, one in-memory OSD, no manager), bootstrapped in a temp dir in a few seconds.
// GUIDE.md section 5 has the facts this follows.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { cephConf, cephPorts, cephxKey, keyring, type CephPorts } from './ceph-conf.ts';
import { monSteps, RGW_POOLS, SYSTEM_PYTHON, tool, type MonStep } from './ceph-tools.ts';
import { Supervisor } from './daemon.ts';

/**
 * The system tools startRgw needs, for describeE2E. python3-rados is a module, not a tool: when
 * Debian's python cannot import it, it is named among the tools, so the suite says it is missing.
 */
export function rgwTools(): string[] {
  const tools = ['monmaptool', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', SYSTEM_PYTHON];
  const rados = spawnSync(SYSTEM_PYTHON, ['-c', 'import rados'], { stdio: 'ignore', timeout: 30_000 });
  return rados.status === 0 ? tools : [...tools, 'python3-rados'];
}

export interface RgwHandle {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** what an S3 client needs to talk to this RGW (path-style, no default flexible checksums) */
  clientConfig(): S3ClientConfig;
  /** a new client with clientConfig() */
  client(): S3Client;
  /** Creates a new, empty bucket: `name` when given, else a unique one. Returns its name. */
  createBucket(name?: string): Promise<string>;
  /** milliseconds from startRgw() to a served S3 request, and per phase */
  bootMs: number;
  phases: Record<string, number>;
  /** Stops every daemon (SIGTERM, then SIGKILL) and removes the cluster's directory. */
  stop(): Promise<void>;
}

export interface RgwOptions {
  /** the OSD's in-memory capacity (objects live in this process's RAM) */
  memstoreBytes?: number;
}

const ACCESS_KEY = 'repoint-test';
const SECRET_KEY = 'repoint-test-secret';
const RGW_NAME = 'client.rgw.a';
/** generous: a 2-CPU machine shared with other test files can be slow, and a hang must still end */
const STEP_TIMEOUT_MS = 60_000;

/** Bootstraps the cluster and RGW; a port taken meanwhile by another process gets a new try. */
export async function startRgw(opts: RgwOptions = {}): Promise<RgwHandle> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await bootstrap(await cephPorts(), opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error) || !/Address already in use|unable to bind/i.test(err.message)) throw err;
    }
  }
  throw lastError;
}

async function bootstrap(ports: CephPorts, opts: RgwOptions): Promise<RgwHandle> {
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  const mark = (phase: string): void => {
    phases[phase] = Math.round(performance.now() - t0);
  };
  const dir = await mkdtemp(join(tmpdir(), 'repoint-rgw-'));
  const sv = new Supervisor();
  /** aborts what runs across steps (radosgw-admin) when the bootstrap fails */
  const booting = new AbortController();
  const stop = async (): Promise<void> => {
    // RGW's shutdown talks to the OSD: ~0.2 s, > 2 s when the OSD is gone first
    await sv.stopAll(3000);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    const conf = join(dir, 'ceph.conf');
    const osdUuid = randomUUID();
    await writeKeyrings(dir);
    // offline steps: no daemon to watch, but a hang must still end
    const offline = AbortSignal.timeout(STEP_TIMEOUT_MS);
    const fsid = randomUUID();
    await writeFile(conf, cephConf({ dir, fsid, ports, rgwName: RGW_NAME, memstoreBytes: opts.memstoreBytes ?? 2 * 1024 ** 3 }));
    await tool('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${ports.mon}]`, join(dir, 'monmap')], offline);
    await Promise.all([
      tool('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', join(dir, 'mon.keyring')], offline),
      tool('ceph-osd', ['-c', conf, '-i', '0', '--mkfs', '--osd-uuid', osdUuid, '--no-mon-config'], offline),
    ]);
    mark('mkfs');

    sv.start('ceph-mon', 'ceph-mon', ['-f', '-c', conf, '-i', 'a'], join(dir, 'log', 'mon.a.log'));
    const steps: MonStep[] = [
      { commands: [{ prefix: 'osd new', uuid: osdUuid, id: 0 }] },
      {
        commands: [
          { prefix: 'osd crush add', id: 0, weight: 1.0, args: ['host=localhost', 'root=default'] },
          ...RGW_POOLS.map((pool) => ({ prefix: 'osd pool create', pool, pg_num: 8 })),
        ],
      },
      { commands: RGW_POOLS.map((pool) => ({ prefix: 'osd pool application enable', pool, app: 'rgw' })) },
      { osdUp: 0 },
      ...RGW_POOLS.map((pool) => ({ probe: pool })),
    ];
    const startOsd = (): void => {
      mark('osd registered');
      sv.start('ceph-osd', 'ceph-osd', ['-f', '-c', conf, '-i', '0'], join(dir, 'log', 'osd.0.log'));
    };
    let userCreated: Promise<string> | undefined;
    const createUser = (): void => {
      const args = ['-c', conf, 'user', 'create', '--uid=repoint', '--display-name=repoint tests', `--access-key=${ACCESS_KEY}`, `--secret-key=${SECRET_KEY}`];
      userCreated = tool('radosgw-admin', args, booting.signal);
      userCreated.catch(() => {}); // awaited below; not unhandled meanwhile
    };
    // the OSD starts (~0.5 s of its own start-up) as soon as it exists, and radosgw-admin (as
    // long) once the pools are there: both overlap the OSD's boot; RGW itself starts only after
    // radosgw-admin has made the default zone, so the two never race to create it
    await sv.step('monitor commands (osd new, crush, pools) and OSD start', STEP_TIMEOUT_MS, (signal) =>
      monSteps(conf, steps, signal, (i) => {
        if (i === 0) startOsd();
        if (i === 2) createUser();
      }),
    );
    mark('osd serving');
    await sv.step('radosgw-admin user create', STEP_TIMEOUT_MS, () => userCreated ?? Promise.reject(new Error('never started')));
    mark('user');
    sv.start('radosgw', 'radosgw', ['-f', '-c', conf, '-n', RGW_NAME], join(dir, 'log', `${RGW_NAME}.log`));
    const endpoint = `http://127.0.0.1:${ports.rgw}`;
    await sv.step('radosgw answering HTTP', STEP_TIMEOUT_MS, (signal) => untilHttp(endpoint, signal));
    mark('rgw serving');
    return handle(endpoint, Math.round(performance.now() - t0), phases, stop);
  } catch (err) {
    booting.abort();
    await stop();
    throw err;
  }
}

async function writeKeyrings(dir: string): Promise<void> {
  await Promise.all(['mon', 'osd', 'run', 'log', 'rgw'].map((d) => mkdir(join(dir, d))));
  const admin = { name: 'client.admin', key: cephxKey(), caps: { mon: 'allow *', osd: 'allow *', mgr: 'allow *' } };
  const rgw = { name: RGW_NAME, key: cephxKey(), caps: { mon: 'allow rw', osd: 'allow rwx' } };
  const osd = { name: 'osd.0', key: cephxKey(), caps: { mon: 'allow profile osd', osd: 'allow *', mgr: 'allow profile osd' } };
  const mon = { name: 'mon.', key: cephxKey(), caps: { mon: 'allow *' } };
  // the monitor imports every entity in its mkfs keyring: no `ceph auth add` round trips later
  await writeFile(join(dir, 'mon.keyring'), keyring([mon, admin, rgw, osd]));
  await writeFile(join(dir, 'keyring'), keyring([admin, rgw]));
  await writeFile(join(dir, 'osd', 'keyring'), keyring([osd]));
}

async function untilHttp(endpoint: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    try {
      const res = await fetch(`${endpoint}/`, { signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function handle(endpoint: string, bootMs: number, phases: Record<string, number>, stop: () => Promise<void>): RgwHandle {
  const region = 'us-east-1';
  const clientConfig = (): S3ClientConfig => ({
    endpoint,
    region,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    forcePathStyle: true,
    // with the default flexible checksums this RGW answers a streamed PutObject 411 MissingContentLength
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let admin: S3Client | undefined;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    region,
    clientConfig,
    client: () => new S3Client(clientConfig()),
    async createBucket(name?: string) {
      const bucket = name ?? `test-${randomUUID().slice(0, 13)}`;
      admin ??= new S3Client(clientConfig());
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    bootMs,
    phases,
    stop() {
      admin?.destroy();
      stopped ??= stop();
      return stopped;
    },
  };
}
