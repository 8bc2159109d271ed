import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, test } from 'vitest';

export interface ToolCheck {
  ok: boolean;
  missing: string[];
  /** human-readable, empty when ok */
  reason: string;
}

/** True when e2e suites must run: a missing tool then fails instead of skipping (CI). */
export function e2eRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['REPOINT_E2E'] === 'required';
}

function onPath(name: string, pathVar: string): boolean {
  if (name.includes('/')) return executable(name);
  return pathVar.split(delimiter).some((dir) => dir !== '' && executable(join(dir, name)));
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks each tool up on PATH (synchronously: suites are registered synchronously). */
export function requireTools(names: readonly string[], env: NodeJS.ProcessEnv = process.env): ToolCheck {
  const pathVar = env['PATH'] ?? '';
  const missing = names.filter((n) => !onPath(n, pathVar));
  return { ok: missing.length === 0, missing, reason: missing.length ? `missing tools on PATH: ${missing.join(', ')}` : '' };
}

/**
 * `describe` for suites that drive real system tools. With every tool present it is a plain
 * describe. Otherwise it skips with a warning, or, when REPOINT_E2E=required, registers one
 * failing test naming the missing tools so CI cannot pass silently.
 */
export function describeE2E(title: string, tools: readonly string[], fn: () => void): void {
  const check = requireTools(tools);
  if (check.ok) {
    describe(title, fn);
    return;
  }
  if (e2eRequired()) {
    describe(title, () => {
      test('required tools are installed', () => {
        expect.unreachable(`REPOINT_E2E=required but ${check.reason}`);
      });
    });
    return;
  }
  console.warn(`skipping e2e suite "${title}": ${check.reason} (set REPOINT_E2E=required to fail instead)`);
  describe.skipIf(true)(title, fn);
}
