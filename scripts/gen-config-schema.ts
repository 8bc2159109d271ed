/** Writes config/schema.json from the config schema: `npm run schema`. A test fails while the committed file is stale. */
import { writeFileSync } from 'node:fs';
import { configJsonSchemaText } from '../src/config/json-schema.ts';

const out = new URL('../config/schema.json', import.meta.url);
writeFileSync(out, configJsonSchemaText());
console.log(`wrote ${out.pathname}`);
