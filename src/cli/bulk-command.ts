/**
 * Imported first by main.ts, before anything can start libuv's thread pool (it reads this variable
 * once, at first use). Export and import commit or read thousands of blobs; with the default 4
 * threads at most 4 fsyncs/opens are in flight and the disk's queue sits idle. An operator's own
 * UV_THREADPOOL_SIZE wins; `serve` keeps the default.
 */
const BULK_COMMANDS = new Set(['export', 'import', 'bundle']);
export const isBulkCommand = process.argv.slice(2).some((a) => BULK_COMMANDS.has(a));
if (isBulkCommand) process.env.UV_THREADPOOL_SIZE ??= '64';

/** The young generation's cap for bulk commands (MiB per semi-space; V8's default is 32). */
const SEMI_SPACE_MIB = 8;

/**
 * A bulk command streams hundreds of MB through short-lived buffers, and V8 lets the young
 * generation grow to 3 x 32 MiB for that: ~80 MB of peak RSS that buys no speed (Debian-scale
 * export: 280 -> 200 MB). V8 reads the size only at start-up, so the process re-executes itself
 * once with the flag (same pid, before anything else ran). The operator's own setting wins.
 */
export function relaunchWithSmallYoungGeneration(): void {
  const set = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('semi-space-size'));
  if (!isBulkCommand || set || typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, `--max-semi-space-size=${SEMI_SPACE_MIB}`, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
