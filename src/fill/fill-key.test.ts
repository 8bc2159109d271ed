import { describe, expect, it } from 'vitest';
import { fillKey } from './fill-key.ts';

const sha = 'AB'.repeat(32);
const at = { remote: 'r', path: 'pool/x.deb' };

describe('fillKey (issue 8, finding 4)', () => {
  it('is the same for the same content from the same upstream, different from another upstream', () => {
    const e = { digests: [{ algo: 'sha256' as const, hex: sha }] };
    expect(fillKey('up-a', e, at)).toBe(fillKey('up-a', e, { remote: 'other', path: 'elsewhere' }));
    expect(fillKey('up-a', e, at)).not.toBe(fillKey('up-b', e, at));
    expect(fillKey('up-a', e, at)).toBe(`sha256:${sha.toLowerCase()}@up-a`);
  });

  it('uses the strongest digest without a sha256, and the remote path without a strong one', () => {
    expect(fillKey('up-a', { digests: [{ algo: 'md5', hex: 'aa' }, { algo: 'sha512', hex: 'CC' }] }, at)).toBe('sha512:cc@up-a');
    expect(fillKey('up-a', { digests: [{ algo: 'md5', hex: 'aa' }] }, at)).toBe('path:r/pool/x.deb@up-a');
  });
});
