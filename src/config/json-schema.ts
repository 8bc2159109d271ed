/** config/schema.json, generated from the config schema (`npm run schema`), so editors check the file as loadConfig does. */
import { z } from 'zod';
import { isOneOrMany } from './fields.ts';
import { configSchema } from './schema.ts';

const LIST_KEYWORDS = ['type', 'items', 'prefixItems', 'minItems', 'maxItems'];

/** The input side of the schema: what may be written, so keys with defaults are optional. */
export function configJsonSchema(): Record<string, unknown> {
  // The context only feeds the transforms (path resolution, env overrides), which a JSON schema does not describe.
  const schema = configSchema({ file: 'mirror.yaml' });
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      if (!isOneOrMany(zodSchema)) return;
      // The parser turns one item into a list before validating it; the file may hold either form.
      const json = jsonSchema as Record<string, unknown>;
      const list: Record<string, unknown> = {};
      for (const k of LIST_KEYWORDS) {
        if (k in json) list[k] = json[k];
        delete json[k];
      }
      json.anyOf = [list.items, list];
    },
  });
  return {
    $schema: generated.$schema,
    $comment: 'Generated from src/config/schema.ts by `npm run schema`; do not edit by hand.',
    title: 'repoint mirror configuration',
    description: 'The YAML config of repoint (mirror.example.yaml documents every key).',
    ...generated,
  };
}

export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
