#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { relaunchWithSmallYoungGeneration } from './bulk-command.ts'; // first: sizes libuv's thread pool before anything uses it

relaunchWithSmallYoungGeneration();

// A command starts in well under a second when the compiled (type-stripped) modules are cached on
// disk: without the cache every start strips and compiles some 200 files. Silently off where the
// cache directory cannot be written. The commands load after it, hence the dynamic import.
enableCompileCache();
const { main, failed } = await import('./commands.ts');
let settled = false;
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { process.exitCode = failed(err); },
).finally(() => { settled = true; });
// Nothing left to wait for, yet the command has not finished (a promise nobody will settle): without
// this Node would exit 0, as if it had succeeded.
process.on('beforeExit', () => {
  if (settled) return;
  process.stderr.write('repoint: INTERNAL: the command stopped before it finished (nothing was left to wait for)\n');
  process.exit(1);
});
