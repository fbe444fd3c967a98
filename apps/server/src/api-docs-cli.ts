// Writes docs/api.md from the API's zod schemas (`npm run docs:api`). `--check` exits 1 when the
// committed file differs, like scripts/generate-flow-schema.ts. Not part of the build.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderApiMarkdown } from './api-docs.ts';

const target = new URL('../../../docs/api.md', import.meta.url);
const text = renderApiMarkdown();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    process.stderr.write('docs/api.md is stale: run `npm run docs:api`\n');
    process.exit(1);
  }
  process.stdout.write('docs/api.md is up to date\n');
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target.pathname}\n`);
}
