
export interface AptCheckpointConfig {
  schedule?: string;
  suites: string[];
  components: string[];
  architectures: string[];
  packages: 'on-demand' | 'immediate';
  keep: number;
}

export interface YumCheckpointConfig {
  schedule?: string;
  repos: string[];
  /**
   * Re-sign repomd.xml that no keyring verified, trusting the https connection to upstream instead.
   * Off by default (fail closed); only allowed for https upstreams.
   */
  trustTls: boolean;
  packages: 'on-demand' | 'immediate';
  keep: number;
}

interface RemoteBase {
  name: string;
  /** Base URLs without a trailing slash, tried in order (failover). */
  upstreams: string[];
  /** Keyring files; empty only for yum remotes without signature checking. */
  keyrings: string[];
  metadataTtlMs: number;
  /** Refuse (404) paths no verified metadata covers instead of streaming them uncached. */
  strict: boolean;
  /** Accept SHA-1 signatures (openpgp.js rejects them by default). */
  allowSha1: boolean;
  /** Set when the remote cannot run (a keyring file is missing): it answers 503 with this message. */
  unavailable?: string;
}

export type AptRemoteConfig = RemoteBase & { type: 'apt'; checkpoints?: AptCheckpointConfig };
export type YumRemoteConfig = RemoteBase & { type: 'yum'; checkpoints?: YumCheckpointConfig };
export type RemoteConfig = AptRemoteConfig | YumRemoteConfig;

export interface UpstreamClientConfig {
  connectTimeoutMs: number;
  /** Idle time allowed between body bytes (and before headers). */
  bodyTimeoutMs: number;
  retries: number;
  connectionsPerHost: number;
}

export type RemoteType = RemoteConfig['type'];

export interface Config {
  /** Where the config was read from, for messages. */
  source: string;
  listen: { host: string; port: number };
  dataDir: string;
  state: string;
  cache: { maxSizeBytes: number; gcIntervalMs: number };
  upstream: UpstreamClientConfig;
  signing: { keyPath: string };
  publicUrl?: string;
  admin: { token?: string };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  remotes: Map<string, RemoteConfig>;
}
