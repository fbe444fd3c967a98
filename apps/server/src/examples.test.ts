import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, parseFlowJson } from '@sluice/engine';
import { describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';

const root = new URL('../../../', import.meta.url).pathname;

describe('shipped flows and generated docs', () => {
  it.each(readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.json')))('example %s is a valid flow', async (file) => {
    const document = parseFlowJson(readFileSync(join(root, 'examples', file), 'utf8'));
    const engine = await Engine.open({ dataDir: join(root, '.unused'), registry: standardRegistry(), repositories: 'volatile' });
    try {
      expect(engine.validate(document)).toEqual([]);
    } finally {
      await engine.shutdown();
    }
  });

  it('docs/flow.schema.json matches the schema the engine validates with', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/generate-flow-schema.ts'), '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out).toContain('up to date');
  });
});
