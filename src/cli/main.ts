#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { relaunchWithSmallYoungGeneration } from './bulk-command.ts'; // first: sizes libuv's thread pool before anything uses it

relaunchWithSmallYoungGeneration();

// A command starts in well under a second when the compiled (type-stripped) modules are cached on
// disk: without the cache every start strips and compiles some 200 files. Silently off where the
// cache directory cannot be written. The commands load after it, hence the dynamic import.
enableCompileCache();
const { main, failed } = await import('./commands.ts');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { process.exitCode = failed(err); },
);
