// Writes docs/flow.schema.json from the engine's zod schema of the flow document.
// `--check` exits 1 when the committed file differs (CI catches a stale schema).
import { readFileSync, writeFileSync } from 'node:fs';
import { flowJsonSchema } from '../packages/engine/src/flow/flow-definition.ts';

const target = new URL('../docs/flow.schema.json', import.meta.url);
const schema = {
  $id: 'https://sluice.dev/schemas/flow-1.json',
  title: 'Sluice flow document, format version 1',
  ...flowJsonSchema(),
};
const text = `${JSON.stringify(schema, null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    console.error('docs/flow.schema.json is stale: run `npm run docs:schema`');
    process.exit(1);
  }
  console.log('docs/flow.schema.json is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target.pathname}`);
}
