/**
 * Imported first by main.ts, before anything can start libuv's thread pool (it reads this variable
 * once, at first use). Export and import commit or read thousands of blobs; with the default 4
 * threads at most 4 fsyncs/opens are in flight and the disk's queue sits idle. An operator's own
 * UV_THREADPOOL_SIZE wins; `serve` keeps the default.
 */
const BULK_COMMANDS = new Set(['export', 'import', 'bundle']);
if (process.argv.slice(2).some((a) => BULK_COMMANDS.has(a))) process.env.UV_THREADPOOL_SIZE ??= '64';
