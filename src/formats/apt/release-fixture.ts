// Test helper (imported by *.test.ts only): Release text with real digests of given contents.
import { createHash } from 'node:crypto';

export interface FixtureFile {
  path: string;
  content: string;
}

const digest = (algo: string, content: string): string => createHash(algo).update(content).digest('hex');

/** A Release in apt-ftparchive's layout; `extra` fields go between Components and the hashes. */
export function buildReleaseText(files: readonly FixtureFile[], extra: readonly string[] = []): string {
  const block = (name: string, algo: string): string[] => [
    `${name}:`,
    ...files.map((f) => ` ${digest(algo, f.content)} ${String(Buffer.byteLength(f.content)).padStart(16)} ${f.path}`),
  ];
  return [
    'Origin: Example',
    'Label: Example',
    'Suite: stable',
    'Version: 12.1',
    'Codename: bookworm',
    'Date: Sat, 10 Jun 2023 08:52:18 UTC',
    'Valid-Until: Sat, 17 Jun 2023 08:52:18 UTC',
    'Acquire-By-Hash: yes',
    'No-Support-for-Architecture-all: Packages',
    'Architectures: all amd64 arm64',
    'Components: main contrib',
    'Description: Example 12.1 Released 10 June 2023',
    'Signed-By: 0123456789ABCDEF0123456789ABCDEF01234567',
    ...extra,
    ...block('MD5Sum', 'md5'),
    ...block('SHA256', 'sha256'),
    '',
  ].join('\n');
}

export { digest };
