import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { publicBaseUrl } from './public-url.ts';

describe('publicBaseUrl (issue 8, finding 13)', () => {
  it('is publicUrl when set, whatever the listen address', () => {
    expect(publicBaseUrl({ publicUrl: 'https://mirror.internal', listen: { host: '0.0.0.0', port: 8080 } }, 41000)).toBe('https://mirror.internal');
  });

  it('is the listen address otherwise, with the port actually bound', () => {
    expect(publicBaseUrl({ listen: { host: '127.0.0.1', port: 0 } }, 41000)).toBe('http://127.0.0.1:41000');
    expect(publicBaseUrl({ listen: { host: '10.1.2.3', port: 8080 } })).toBe('http://10.1.2.3:8080');
    expect(publicBaseUrl({ listen: { host: '::1', port: 8080 } })).toBe('http://[::1]:8080');
  });

  it('is the hostname when listening on every address', () => {
    expect(publicBaseUrl({ listen: { host: '0.0.0.0', port: 8080 } })).toBe(`http://${hostname()}:8080`);
    expect(publicBaseUrl({ listen: { host: '::', port: 9000 } })).toBe(`http://${hostname()}:9000`);
  });
});
