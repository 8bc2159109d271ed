import { RepointError } from '../errors.ts';
import { parseDuration, parseSize } from './units.ts';

/** Reads a YAML subtree while tracking its key path, so every error names the key and the fix. */
export class Node {
  readonly path: string;
  readonly value: unknown;

  constructor(path: string, value: unknown) {
    this.path = path;
    this.value = value;
  }

  fail(problem: string): never {
    throw new RepointError('CONFIG_INVALID', `${this.path || '(top level)'}: ${problem}`);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  child(key: string): Node {
    const obj = this.object();
    return new Node(this.path ? `${this.path}.${key}` : key, obj[key]);
  }

  object(): Record<string, unknown> {
    if (!this.present) return {};
    if (typeof this.value !== 'object' || Array.isArray(this.value)) this.fail('expected a mapping');
    return this.value as Record<string, unknown>;
  }

  /** Rejects typos: unknown keys are an error that lists the valid ones. */
  onlyKeys(allowed: readonly string[]): void {
    for (const k of Object.keys(this.object())) {
      if (!allowed.includes(k)) this.fail(`unknown key "${k}" (valid keys: ${allowed.join(', ')})`);
    }
  }

  string(def?: string): string {
    if (!this.present) return def ?? this.fail('required; set it to a string');
    if (typeof this.value !== 'string' || this.value === '') this.fail(`expected a non-empty string, got ${JSON.stringify(this.value)}`);
    return this.value;
  }

  optionalString(): string | undefined {
    return this.present ? this.string() : undefined;
  }

  stringList(def?: string[]): string[] {
    if (!this.present) return def ?? this.fail('required; set a string or a list of strings');
    const items = Array.isArray(this.value) ? this.value : [this.value];
    return items.map((v, i) => new Node(`${this.path}[${i}]`, v).string());
  }

  boolean(def: boolean): boolean {
    if (!this.present) return def;
    if (typeof this.value !== 'boolean') this.fail(`expected true or false, got ${JSON.stringify(this.value)}`);
    return this.value;
  }

  integer(def: number, min: number, max: number): number {
    if (!this.present) return def;
    const v = this.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  }

  duration(def: string): number {
    const v = parseDuration(this.present ? this.value : def);
    return v ?? this.fail(`expected a duration like "30s", "5m" or "1h", got ${JSON.stringify(this.value)}`);
  }

  size(def: string): number {
    const v = parseSize(this.present ? this.value : def);
    return v ?? this.fail(`expected a size like "500MiB" or "50GiB", got ${JSON.stringify(this.value)}`);
  }

  oneOf<T extends string>(choices: readonly T[], def: T): T {
    const v = this.present ? this.value : def;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) this.fail(`expected one of ${choices.join(' | ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }
}
