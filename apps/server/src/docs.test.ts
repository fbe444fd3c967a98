import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { flowJsonSchema } from '@sluice/engine';
import { flowDocumentSchema } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEMO_FLOW } from './demo-flow.ts';

const root = new URL('../../../', import.meta.url).pathname;

describe('generated docs and shared formats', () => {
  it('docs/api.md matches the API schemas', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'apps/server/src/api-docs-cli.ts'), '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out).toContain('up to date');
  });

  it("the protocol's flow document is exactly the engine's", () => {
    const protocol = z.toJSONSchema(flowDocumentSchema, { io: 'input', unrepresentable: 'any', metadata: z.registry() });
    expect(protocol).toEqual(flowJsonSchema());
  });

  it('the first-start demo flow is examples/demo-flow.json, stopped', () => {
    const example = JSON.parse(readFileSync(join(root, 'examples/demo-flow.json'), 'utf8'));
    for (const p of example.rootGroup.processors) p.state = 'STOPPED';
    expect(DEMO_FLOW).toEqual(example);
  });
});
