import { describe, expect, it } from 'vitest';
import { canonicalAddress, classifyAddress, refusedTarget } from './address-class.ts';

describe('classifyAddress (issue 8, finding 1: redirect targets)', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['::1', 'loopback'], ['0:0:0:0:0:0:0:1', 'loopback'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'], ['fc00::1', 'private'], ['fd12:3456::1', 'private'], ['fec0::1', 'private'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'], ['0:0:0:0:0:0:0:0', 'unspecified'],
    ['0.1.2.3', 'reserved'], ['224.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'], ['192.0.2.7', 'reserved'],
    ['ff02::1', 'reserved'], ['2001:db8::1', 'reserved'], ['::7f00:1', 'reserved'],
    ['11.22.33.44', 'public'], ['172.32.0.1', 'public'], ['100.128.0.1', 'public'], ['2c0f:1::1', 'public'], ['45.67.89.10', 'public'],
    ['not-an-ip', 'invalid'], ['999.1.1.1', 'invalid'], ['', 'invalid'],
  ];
  it.each(cases)('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('classifies IPv4-mapped IPv6 by the IPv4 address, in every spelling', () => {
    for (const ip of ['::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:127.0.0.1', '::FFFF:7F00:0001', '[::ffff:127.0.0.1]']) {
      expect(classifyAddress(ip), ip).toBe('loopback');
    }
    expect(classifyAddress('::ffff:10.0.0.1')).toBe('private');
    expect(classifyAddress('::ffff:169.254.169.254')).toBe('link-local');
    expect(classifyAddress('::ffff:0.0.0.0')).toBe('unspecified');
    expect(classifyAddress('::ffff:11.22.33.44')).toBe('public');
  });

  it('classifies NAT64 and 6to4 addresses by the IPv4 address they carry', () => {
    expect(classifyAddress('64:ff9b::7f00:1')).toBe('loopback');
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toBe('link-local');
    expect(classifyAddress('2002:7f00:1::')).toBe('loopback');
    expect(classifyAddress('2002:c0a8:101::1')).toBe('private');
    expect(classifyAddress('64:ff9b::b16:212c')).toBe('public');
  });
});

describe('canonicalAddress', () => {
  it('spells an address one way', () => {
    expect(canonicalAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalAddress('::1')).toBe(canonicalAddress('0:0:0:0:0:0:0:1'));
    expect(canonicalAddress('[fe80::1%lo]')).toBe(canonicalAddress('fe80:0::1'));
    expect(canonicalAddress('127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('refusedTarget', () => {
  it('allows public targets whatever the upstream is', () => {
    expect(refusedTarget('11.22.33.44', ['11.22.33.45'])).toBeUndefined();
    expect(refusedTarget('2c0f:1::1', ['127.0.0.1'])).toBeUndefined();
  });

  it('refuses loopback, link-local, private, unspecified and reserved targets for a public upstream', () => {
    for (const t of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '169.254.169.254', '10.0.0.5', 'fd00::5', '0.0.0.0', '::', '224.0.0.1']) {
      expect(refusedTarget(t, ['203.0.114.10']), t).toBeDefined();
    }
    expect(refusedTarget('127.0.0.1', ['11.22.33.44'])).toBe('loopback address');
  });

  it('allows private targets when an upstream of the remote is private too', () => {
    expect(refusedTarget('10.0.0.6', ['10.0.0.5'])).toBeUndefined();
    expect(refusedTarget('192.168.1.9', ['fd00::5'])).toBeUndefined();
    expect(refusedTarget('10.0.0.6', ['11.22.33.44', '10.0.0.5'])).toBeUndefined();
  });

  it('allows a loopback or link-local target only when it is an upstream\'s own address', () => {
    expect(refusedTarget('127.0.0.1', ['127.0.0.1'])).toBeUndefined();
    expect(refusedTarget('::ffff:127.0.0.1', ['127.0.0.1'])).toBeUndefined();
    expect(refusedTarget('127.0.0.1', ['127.0.0.2'])).toBe('loopback address');
    expect(refusedTarget('::1', ['127.0.0.1'])).toBe('loopback address');
    expect(refusedTarget('127.0.0.1', ['10.0.0.5'])).toBe('loopback address');
    expect(refusedTarget('169.254.169.254', ['169.254.0.9'])).toBe('link-local address');
  });

  it('never allows unspecified or reserved targets, even from such an upstream', () => {
    expect(refusedTarget('0.0.0.0', ['0.0.0.0'])).toBe('unspecified address');
    expect(refusedTarget('::', ['127.0.0.1'])).toBe('unspecified address');
    expect(refusedTarget('0.1.2.3', ['127.0.0.1'])).toBe('reserved address');
    expect(refusedTarget('nonsense', ['127.0.0.1'])).toBe('invalid address');
  });
});
