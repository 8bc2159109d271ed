import { describe, expect, it } from 'vitest';
import { redactText, redactUrl, splitUserinfo } from './redact.ts';

describe('URL redaction (issue 8, finding 8)', () => {
  it('splits credentials out of a URL, decoded, leaving the URL otherwise as written', () => {
    expect(splitUserinfo('http://alice:p%40ss%3Aw@mirror.test:8080/debian')).toEqual({
      url: 'http://mirror.test:8080/debian', userinfo: { username: 'alice', password: 'p@ss:w' },
    });
    expect(splitUserinfo('https://token@mirror.test')).toEqual({ url: 'https://mirror.test', userinfo: { username: 'token', password: '' } });
    expect(splitUserinfo('http://mirror.test/a@b')).toEqual({ url: 'http://mirror.test/a@b' });
    expect(splitUserinfo('not a url')).toEqual({ url: 'not a url' });
  });

  it('redacts userinfo, and on request the query', () => {
    expect(redactUrl('http://u:secret@mirror.test/x?y=1')).toBe('http://mirror.test/x?y=1');
    expect(redactUrl('https://cdn.test/x.deb?sig=abc#f', { query: 'drop' })).toBe('https://cdn.test/x.deb?…');
    expect(redactUrl('https://cdn.test/x.deb', { query: 'drop' })).toBe('https://cdn.test/x.deb');
  });

  it('redacts the userinfo of every URL in a text, passwords with "@" included', () => {
    expect(redactText('upstream http://u:s3cret@a.test/x failed; mirror https://v:p@ss@b.test/ too'))
      .toBe('upstream http://***@a.test/x failed; mirror https://***@b.test/ too');
    expect(redactText('mail admin@a.test about http://a.test/p@q')).toBe('mail admin@a.test about http://a.test/p@q');
  });
});
