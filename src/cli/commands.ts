import { parseArgs } from 'node:util';
import { findConfigPath, loadConfig } from '../config/load.ts';
import { isRepointError } from '../errors.ts';
import { createLogger } from '../log.ts';

const USAGE = `usage: repoint <command> [--config FILE]

commands:
  serve                 run the proxy (default config: $REPOINT_CONFIG, ./mirror.yaml, ./mirror.example.yaml)
  verify                re-hash every cached blob; report and delete any that is bad
  checkpoint create <remote>    freeze the remote's current metadata into a re-signed checkpoint
  checkpoint list [<remote>]    list checkpoints
  gc [--all] [--dry-run]        remove blobs no kept checkpoint needs, least recently used first,
                                until the store fits cache.maxSize (--all: every unpinned blob)
  export <remote> --output FILE.tar|- [--checkpoint TS | --all] [--since TS] [--split SIZE]
                                write a signed bundle of checkpoints (air gap); --since: incremental
  import FILE.tar|FILE.tar.000|-|URL [--remote NAME] [--token-file FILE | --token TOKEN]
                                verify a bundle with import.trustedKeys and publish its checkpoints
  status [--url URL]            the running node's figures (its /-/status.json): hit ratios, upstream
                                health, freshness, downloads, checkpoints; --url: another node
  bundle verify FILE.tar [--key FILE]...
                                check a bundle's signature, hashes and completeness without importing
                                (keys: --key, else import.trustedKeys of the config)

exit codes: 0 done, 1 failed, 2 usage, 75 already running elsewhere (checkpoint create, gc): try again later
`;

/** sysexits EX_TEMPFAIL: another process holds the lease; retrying later will work. */
const EXIT_BUSY = 75;

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, all: { type: 'boolean' }, 'dry-run': { type: 'boolean' },
      output: { type: 'string', short: 'o' }, checkpoint: { type: 'string' }, since: { type: 'string' }, split: { type: 'string' },
      remote: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, key: { type: 'string', multiple: true }, url: { type: 'string' },
    },
    allowPositionals: true,
  });
}

/** Runs one command line; the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    // an unknown option or one without its value is a usage error (exit 2), not a failure
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`repoint: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  // a transfer station checks bundles with a key file, without any repoint config
  if (command === 'bundle' && values.key?.length) return (await import('./bundle.ts')).runBundle(values.key, positionals.slice(1));
  const config = loadConfig(findConfigPath(values.config, process.env, process.cwd()));
  const log = createLogger(config.logLevel, {}, undefined, command === 'serve' ? config.accessLog : 'off');
  // Each command loads only its own modules: a bulk command starts without the HTTP stack, and so on.
  switch (command) {
    case 'serve': {
      const running = await (await import('./serve.ts')).startServer(config, log);
      const stop = (signal: string): void => {
        const started = Date.now();
        log.info('shutting down', { signal, graceMs: config.shutdownGraceMs });
        // A bound even if closing hangs somewhere: the grace, plus time to close the stores.
        setTimeout(() => {
          log.error('shutdown did not finish in time; exiting anyway', { ms: Date.now() - started });
          process.exit(1);
        }, config.shutdownGraceMs + 10_000).unref();
        running.close().then(() => {
          log.info('shut down', { ms: Date.now() - started });
          process.exit(0);
        }, (err: unknown) => {
          log.error('shutdown failed', { reason: (err as Error).message });
          process.exit(1);
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      return new Promise<number>(() => {}); // runs until a signal
    }
    case 'verify':
      return (await import('./verify.ts')).runVerify(config, log);
    case 'gc':
      return (await import('./gc.ts')).runGc(config, log, { all: values.all ?? false, dryRun: values['dry-run'] ?? false });
    case 'checkpoint':
      return (await import('./checkpoint.ts')).runCheckpoint(config, log, positionals.slice(1));
    case 'export':
      return (await import('./export.ts')).runExport(config, log, positionals.slice(1), {
        ...(values.output !== undefined ? { output: values.output } : {}), ...(values.checkpoint !== undefined ? { checkpoint: values.checkpoint } : {}),
        ...(values.since !== undefined ? { since: values.since } : {}), ...(values.split !== undefined ? { split: values.split } : {}), all: values.all ?? false,
      });
    case 'import':
      return (await import('./import.ts')).runImport(config, log, positionals.slice(1), {
        ...(values.remote !== undefined ? { remote: values.remote } : {}), ...(values.token !== undefined ? { token: values.token } : {}),
        ...(values['token-file'] !== undefined ? { tokenFile: values['token-file'] } : {}),
      });
    case 'status':
      return (await import('./status.ts')).runStatus(config, values.url !== undefined ? { url: values.url } : {});
    case 'bundle':
      return (await import('./bundle.ts')).runBundle(config.import.trustedKeys, positionals.slice(1), config.upstream.bodyTimeoutMs);
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

/** The exit code for an error: 75 when another process holds the lease (retry later), else 1; the message on stderr. */
export function failed(err: unknown): number {
  if (isRepointError(err)) process.stderr.write(`repoint: ${err.code}: ${err.message}\n`);
  else process.stderr.write(`repoint: ${(err as Error).stack ?? String(err)}\n`);
  return isRepointError(err, 'CHECKPOINT_RUNNING') || isRepointError(err, 'GC_RUNNING') ? EXIT_BUSY : 1;
}
