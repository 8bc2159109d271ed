/** The config's types, derived from the one schema (schema.ts, remote-schema.ts); never written by hand. */
import type { z } from 'zod';
import type { aptCheckpointsSchema, yumCheckpointsSchema } from './remote-schema.ts';
import type { configSchema } from './schema.ts';

export type Config = z.output<ReturnType<typeof configSchema>>;
export type RemoteConfig = Config['remotes'] extends Map<string, infer R> ? R : never;
export type AptRemoteConfig = Extract<RemoteConfig, { type: 'apt' }>;
export type YumRemoteConfig = Extract<RemoteConfig, { type: 'yum' }>;
export type RemoteType = RemoteConfig['type'];
export type AptCheckpointConfig = z.output<typeof aptCheckpointsSchema>;
export type YumCheckpointConfig = z.output<typeof yumCheckpointsSchema>;
export type UpstreamClientConfig = Config['upstream'];
export type { UpstreamAuth, UpstreamTls } from './upstream-access.ts';
export type ImportFromConfig = NonNullable<RemoteConfig['importFrom']>;
