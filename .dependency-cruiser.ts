// Layer rules for src/ (issue 7's target layout), checked by `npm run lint`.
// Paths are regular expressions over repo-relative paths. Rules for folders that do not exist yet
// simply match nothing. Co-located tests (*.test.ts) are exempt: they compose layers, read
// fixtures and use test/ helpers; the rules are about what ships.
import type { IConfiguration, IForbiddenRuleType } from 'dependency-cruiser';
import { getAvailableTranspilers } from 'dependency-cruiser';

// Without a TypeScript parser dependency-cruiser silently falls back to a loose JavaScript parse of
// .ts files (TypeScript 7 has no JS compiler API, so its `tsc` parser is unavailable): type-only
// imports vanish and every rule stays green. Refuse to run instead.
const swc = getAvailableTranspilers().find((t) => t.name === 'swc');
if (swc?.available !== true) {
  throw new Error(
    `dependency-cruiser cannot load @swc/core ${swc?.version ?? ''}: the layer rules would not see ` +
      'TypeScript imports (type-only ones included). Run `npm ci`.',
  );
}

const TEST = '[.]test[.]ts$';
/** Shared, type-free layers. */
const SHARED = ['formats', 'streams', 'trust', 'upstream', 'blobs', 'state', 'fill', 'serve', 'checkpoints', 'bundles', 'config', 'ops'];
/** The composition root and the registry: only the edge and the CLI build on them. */
const ROOT = '^src/(?:registry|runtime)[.]ts$';
/** The interface a repository type implements: types import it, shared layers never do. */
const TYPE_INTERFACE = '^src/repository-type[.]ts$';
/**
 * Every top-level folder of src/ that is NOT a repository type. Any other folder (apt/, yum/, a
 * future zypper/) is a repository type. `types` holds ambient declarations (*.d.ts).
 */
const NOT_A_TYPE = [...SHARED, 'http', 'cli', 'types'];
const notAType = NOT_A_TYPE.join('|');
/** A repository type folder; group 1 is its name. */
const TYPE_FOLDER = `^src/(?!(?:${notAType})/)([^/]+)/`;
const ANY_TYPE_FOLDER = `^src/(?!(?:${notAType})/)[^/]+/`;
/** Pure format code: src/formats/** and src/<type>/formats/**. */
const PURE = '^src/(?:formats/|[^/]+/formats/)';

const IO_CORE = [
  'fs', 'fs/promises', 'net', 'tls', 'http', 'http2', 'https', 'child_process', 'cluster', 'dgram',
  'dns', 'dns/promises', 'worker_threads', 'sqlite',
];
/** I/O libraries we use, or may (object storage and Redis clients). */
const IO_NPM = [
  'undici', 'hono', '@hono/[^/]+', 'keyv', '@keyv/[^/]+', 'openpgp', 'node-cron', 'lru-cache',
  '@aws-sdk/[^/]+', 'redis', '@redis/[^/]+',
];

/** Shipped code under `path`: co-located tests are exempt. */
const fromProd = (path: string): { path: string; pathNot: string } => ({ path, pathNot: TEST });

const forbidden: IForbiddenRuleType[] = [
  {
    name: 'formats-pure-no-io',
    comment:
      'Pure format code (src/formats/**, src/<type>/formats/**) parses and writes bytes it is given: no ' +
      'file system, network, processes, state or crypto-trust I/O. Pass data or a stream in from the caller.',
    severity: 'error',
    from: fromProd(PURE),
    to: {
      path: [
        `^(?:node:)?(?:${IO_CORE.join('|')})$`,
        `(?:^|/node_modules/)(?:${IO_NPM.join('|')})(?:/|$)`,
      ],
    },
  },
  {
    name: 'formats-pure-shared-only-formats',
    comment:
      'src/formats/** is the bottom layer: it may import only src/formats/** and src/errors.ts.',
    severity: 'error',
    from: fromProd('^src/formats/'),
    to: { path: '^src/', pathNot: ['^src/formats/', '^src/errors[.]ts$'] },
  },
  {
    name: 'formats-pure-type-only-formats',
    comment:
      "A type's pure formats (src/<type>/formats/**) may import only src/formats/**, their own type's " +
      'formats/ and src/errors.ts: not the rest of their type, and no other type.',
    severity: 'error',
    from: fromProd('^src/([^/]+)/formats/'),
    to: { path: '^src/', pathNot: ['^src/formats/', '^src/$1/formats/', '^src/errors[.]ts$'] },
  },
  {
    name: 'base-imports-no-layer',
    comment: 'src/errors.ts, src/log.ts and src/version.ts are the base layer: they import nothing else of ours ' +
      'but the pure URL redaction (src/formats/http/redact.ts), which the log applies to every line.',
    severity: 'error',
    from: fromProd('^src/(?:errors|log|version)[.]ts$'),
    to: { path: '^src/', pathNot: ['^src/(?:errors|log|version)[.]ts$', '^src/formats/http/redact[.]ts$'] },
  },
  {
    name: 'no-import-of-cli',
    comment: 'src/cli/ is the outermost layer (commands); nothing in src/ outside it may import it.',
    severity: 'error',
    from: { path: '^src/', pathNot: [TEST, '^src/cli/'] },
    to: { path: '^src/cli/' },
  },
  {
    name: 'http-not-to-fill',
    comment:
      'The http edge sees fills only through the interfaces of src/serve/reply.ts, never src/fill/ itself.',
    severity: 'error',
    from: fromProd('^src/http/'),
    to: { path: '^src/fill/' },
  },
  {
    name: 'type-not-to-other-type',
    comment:
      'A repository type folder (src/apt/, src/yum/, a future src/zypper/: any src/ folder not in ' +
      'NOT_A_TYPE of .dependency-cruiser.ts) never imports another type. Shared code belongs in a shared ' +
      'layer. (A new shared folder must be added to NOT_A_TYPE.)',
    severity: 'error',
    from: fromProd(TYPE_FOLDER),
    to: { path: ANY_TYPE_FOLDER, pathNot: '^src/$1/' },
  },
  {
    name: 'type-not-to-edge',
    comment:
      'A repository type is wired in by the registry and runtime, and served by http/: it imports none of ' +
      'src/registry.ts, src/runtime.ts or src/http/ (that would be a cycle through the edge); it implements ' +
      'src/repository-type.ts.',
    severity: 'error',
    from: fromProd(TYPE_FOLDER),
    to: { path: [ROOT, '^src/http/'] },
  },
  {
    name: 'shared-not-to-types-or-edge',
    comment:
      `Shared layers (src/{${SHARED.join(',')}}) are type-free and below the edge: they never import a ` +
      'repository type folder (src/apt/, src/yum/, ...), src/repository-type.ts, src/registry.ts, ' +
      'src/runtime.ts, src/http/ or src/cli/. Put what a type must provide behind an interface in the shared ' +
      'layer that uses it (e.g. src/checkpoints/checkpoint-source.ts).',
    severity: 'error',
    from: fromProd(`^src/(?:${SHARED.join('|')})/`),
    to: {
      path: [ANY_TYPE_FOLDER, TYPE_INTERFACE, ROOT, '^src/(?:http|cli)/'],
    },
  },
  {
    name: 'storage-not-to-fill-serve-checkpoints',
    comment:
      'src/blobs, src/state, src/upstream and src/trust are seams below the fill/serve/checkpoint logic: ' +
      'they never import src/fill, src/serve or src/checkpoints.',
    severity: 'error',
    from: fromProd('^src/(?:blobs|state|upstream|trust)/'),
    to: { path: '^src/(?:fill|serve|checkpoints)/' },
  },
  {
    name: 'serve-not-to-checkpoints',
    comment:
      'src/serve is the type-free serving core; checkpoints build on it (their router lives in ' +
      'src/checkpoints), never the other way round.',
    severity: 'error',
    from: fromProd('^src/serve/'),
    to: { path: '^src/checkpoints/' },
  },
  {
    name: 'src-not-to-test-or-bench',
    comment: 'Shipped code never imports test/ or bench/ (co-located *.test.ts files may use test/ helpers).',
    severity: 'error',
    from: fromProd('^src/'),
    to: { path: '^(?:test|bench)/' },
  },
  {
    name: 'not-to-unresolvable',
    comment:
      'An import that does not resolve to a file escapes every layer rule (and fails at run time): fix ' +
      'the path. Our imports carry explicit .ts extensions.',
    severity: 'error',
    from: { path: '^src/' },
    to: { couldNotResolve: true },
  },
  {
    name: 'no-folder-cycles',
    comment: 'Folders of src/ that import each other in a cycle blur the layering; break the cycle.',
    severity: 'warn',
    scope: 'folder',
    from: fromProd('^src/'),
    to: { circular: true },
  },
];

const config: IConfiguration = {
  forbidden,
  options: {
    // the swc parser sees TypeScript syntax, including `import type` (counted as a dependency)
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    // co-located tests are exempt from every rule; left in, they make folder cycles through test/ helpers
    exclude: { path: TEST },
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};

export default config;
