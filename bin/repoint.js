#!/usr/bin/env node
// The installed command. Plain JavaScript on purpose: Node strips types with a WebAssembly compiler
// that takes ~0.1 s to start, and it would start for the entry file itself before src/cli/main.ts
// could turn the compile cache on. Turned on here first, every TypeScript module of a command,
// main.ts included, loads from the cache (bulk commands start twice: see src/cli/bulk-command.ts).
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('../src/cli/main.ts');
