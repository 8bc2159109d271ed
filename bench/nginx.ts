import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForHttp } from './http.ts';
import type { Procs } from './procs.ts';
import { toolPath } from './setup.ts';

export interface NginxServer {
  child: ChildProcess;
  dir: string;
}

/** Shared top of every conf: one foreground master, temp paths inside `dir`. */
function preamble(dir: string, workers: number | 'auto'): string {
  return `
user root;
daemon off;
master_process on;
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
`;
}

export interface UpstreamConfOptions {
  dir: string;
  www: string;
  port: number;
  /** same files, `limit_rate` per connection, access-logged so upstream fetches can be counted */
  limitedPort: number;
  limitRate: string;
  accessLog: string;
  workers: number | 'auto';
}

export function upstreamConf(o: UpstreamConfOptions): string {
  return `${preamble(o.dir, o.workers)}
  server {
    listen 127.0.0.1:${o.port};
    root ${o.www};
  }
  server {
    listen 127.0.0.1:${o.limitedPort};
    root ${o.www};
    limit_rate ${o.limitRate};
    access_log ${o.accessLog};
  }
}
`;
}

export interface CacheConfOptions {
  dir: string;
  port: number;
  upstreamPort: number;
  workers: number | 'auto';
}

export function cacheConf(o: CacheConfOptions): string {
  return `${preamble(o.dir, o.workers)}
  proxy_cache_path ${o.dir}/cache levels=1:2 keys_zone=bench:10m max_size=4g inactive=1h use_temp_path=off;
  upstream origin {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${o.port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_valid 200 1h;
      proxy_cache_lock on;
    }
  }
}
`;
}

/** Writes `conf` into `dir` and runs nginx in the foreground until `probeUrl` answers 200. */
export async function startNginx(procs: Procs, dir: string, conf: string, probeUrl: string): Promise<NginxServer> {
  await mkdir(dir, { recursive: true });
  const confPath = join(dir, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = procs.spawnServer(toolPath('nginx'), ['-p', dir, '-e', join(dir, 'error.log'), '-c', confPath], join(dir, 'stdout.log'));
  await waitForHttp(probeUrl, child, join(dir, 'error.log'));
  return { child, dir };
}
