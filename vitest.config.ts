import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    // a TMPDIR per test file, removed (with its gpg-agents) when the file is done
    setupFiles: ['test/setup/scratch.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // e2e suites spawn apt-get/dnf and servers; two cores, so keep files parallel but bounded
    maxWorkers: 2,
    reporters: ['default'],
  },
});
