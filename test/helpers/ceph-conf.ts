import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

/** Ports for one throwaway cluster: exact ones for the monitor and RGW, a range for the rest. */
export interface CephPorts {
  mon: number;
  rgw: number;
  /** inclusive range the OSD's four messengers bind in (ceph skips ports taken meanwhile) */
  bindMin: number;
  bindMax: number;
}

const BLOCK = 20;

/**
 * A block of consecutive ports that were all free a moment ago. Below Linux's ephemeral range
 * (32768+) so outgoing connections do not take them meanwhile; a random base so parallel test files
 * rarely probe the same block.
 */
export async function cephPorts(): Promise<CephPorts> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - 20_000 - BLOCK));
    const ports = Array.from({ length: BLOCK }, (_, i) => base + i);
    const free = await Promise.all(ports.map(bindable));
    if (free.every(Boolean)) return { mon: base, rgw: base + 1, bindMin: base + 2, bindMax: base + BLOCK - 1 };
  }
  throw new Error(`no block of ${BLOCK} free loopback ports in 20000-32000 after 50 tries`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A cephx secret as `ceph-authtool --gen-print-key` prints it: type AES, creation time, 16 bytes. */
export function cephxKey(now = Date.now()): string {
  const buf = Buffer.alloc(2 + 8 + 2 + 16);
  buf.writeUInt16LE(1, 0);
  buf.writeUInt32LE(Math.floor(now / 1000), 2);
  buf.writeUInt32LE((now % 1000) * 1_000_000, 6);
  buf.writeUInt16LE(16, 10);
  randomBytes(16).copy(buf, 12);
  return buf.toString('base64');
}

export interface KeyringEntry {
  name: string;
  key: string;
  caps: Record<string, string>;
}

/** The keyring file format ceph-authtool writes. */
export function keyring(entries: readonly KeyringEntry[]): string {
  return entries
    .map((e) => [`[${e.name}]`, `\tkey = ${e.key}`, ...Object.entries(e.caps).map(([k, v]) => `\tcaps ${k} = "${v}"`)].join('\n'))
    .join('\n')
    .concat('\n');
}

export interface CephConfInput {
  dir: string;
  fsid: string;
  ports: CephPorts;
  rgwName: string;
  memstoreBytes: number;
}

/**
 * ceph.conf for a one-node loopback cluster: msgr2 only, everything bound to 127.0.0.1, one replica,
 * an in-memory OSD, fast paxos (the default batches map changes for 1 s, ~2 s per created pool),
 * and every file (logs, sockets, keyrings) inside `dir`.
 */
export function cephConf(c: CephConfInput): string {
  const d = c.dir;
  return `[global]
fsid = ${c.fsid}
mon_host = v2:127.0.0.1:${c.ports.mon}
ms_bind_msgr1 = false
ms_bind_msgr2 = true
ms_bind_port_min = ${c.ports.bindMin}
ms_bind_port_max = ${c.ports.bindMax}
public_addr = 127.0.0.1
# without it the OSD's heartbeat messengers bind 0.0.0.0
cluster_addr = 127.0.0.1
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
# a nearly full /tmp must not stop the monitor: its store is tiny
mon_data_avail_crit = 0
mon_data_avail_warn = 0
paxos_propose_interval = 0.05
osd_objectstore = memstore
memstore_device_bytes = ${c.memstoreBytes}
# an OSD stopping tells the monitor first; do not wait 5 s for a monitor stopping beside it
osd_mon_shutdown_timeout = 0.5
run_dir = ${d}/run
# unused, and a unix socket path may not exceed 107 bytes (a deep TMPDIR would break it)
admin_socket =
log_file = ${d}/log/$name.log
keyring = ${d}/keyring
[mon.a]
mon_data = ${d}/mon
[osd.0]
# the harness puts it in the crush map beside the pool creation; no extra map change at its boot
osd_crush_update_on_start = false
osd_data = ${d}/osd
keyring = ${d}/osd/keyring
[${c.rgwName}]
rgw_frontends = beast endpoint=127.0.0.1:${c.ports.rgw}
rgw_data = ${d}/rgw
rgw_thread_pool_size = 64
rgw_dynamic_resharding = false
`;
}
