import { hostname } from 'node:os';
import type { Config } from '../config/types.ts';

/**
 * The base URL this node's clients use: publicUrl, else the listen address (the hostname when
 * listening on every address). The same rule as checkpoint-service.ts's default; kept here until a
 * shared helper exists.
 */
export function publicBase(config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  const { host, port } = config.listen;
  const h = host === '0.0.0.0' || host === '::' ? hostname() : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}
