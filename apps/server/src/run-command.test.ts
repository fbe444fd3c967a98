import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunOptions, runFlow } from './run-command.ts';

describe('sluice run', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-run-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function attempt(flow: unknown | string, options: Partial<RunOptions> = {}): Promise<{ code: number; lines: string[] }> {
    const path = join(dir, 'flow.json');
    writeFileSync(path, typeof flow === 'string' ? flow : JSON.stringify(flow));
    const lines: string[] = [];
    const signals = new EventEmitter();
    const running = runFlow(
      {
        flowPath: path,
        dataDir: join(dir, 'data'),
        durability: 'process',
        allowPaths: [dir],
        logLevel: 'WARN',
        write: (l) => lines.push(l),
        ...options,
      },
      signals,
    );
    // A flow that starts runs until a signal: stop it as soon as it reports it is running.
    const code = await Promise.race([
      running,
      new Promise<number>((resolve) => {
        const poll = setInterval(() => {
          if (lines.some((l) => l.includes('[sluice] running'))) {
            clearInterval(poll);
            signals.emit('SIGTERM');
            resolve(running);
          }
        }, 20);
      }),
    ]);
    return { code, lines };
  }

  const processor = (extra: Record<string, unknown>) => ({
    id: 'gen',
    name: 'Make data',
    type: 'GenerateFlowFile',
    autoTerminate: ['success'],
    state: 'RUNNING',
    ...extra,
  });
  const flowWith = (processors: unknown[]) => ({ sluiceFlow: 1, rootGroup: { id: 'root', name: 'r', processors } });

  it('refuses malformed JSON with the parser position', async () => {
    const { code, lines } = await attempt('{"sluiceFlow": 1, "rootGroup": ');
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/not valid JSON/);
  });

  it('refuses an unknown processor type, suggesting the right one', async () => {
    const { code, lines } = await attempt(flowWith([processor({ type: 'GenerateFlowfile' })]));
    expect(code).toBe(1);
    expect(lines.join('\n')).toContain(
      '"Make data" (gen): unknown processor type "GenerateFlowfile"; did you mean "GenerateFlowFile"?',
    );
  });

  it('names the component and property of an invalid value and of a broken expression', async () => {
    const { code, lines } = await attempt(
      flowWith([
        processor({ properties: { batchSize: 'many' } }),
        processor({ id: 'gen2', name: 'Tag', properties: { customText: '${uuid:toUpperr()}' } }),
      ]),
    );
    expect(code).toBe(1);
    const text = lines.join('\n');
    expect(text).toContain('"Make data" (gen), property "batchSize": "many" is not a whole number');
    expect(text).toMatch(
      /"Tag" \(gen2\), property "customText": invalid expression: Unknown function "toUpperr".*did you mean "toUpper"/,
    );
    // The refused run released the data directory (its lock is gone), so a fixed flow can start.
    expect(readdirSync(join(dir, 'data'))).not.toContain('sluice.lock');
  });

  it('refuses a document of the wrong shape, naming the field', async () => {
    const { code, lines } = await attempt({
      sluiceFlow: 1,
      rootGroup: { id: 'root', name: 'r', processors: [{ id: 'x', type: 'GenerateFlowFile' }] },
    });
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/rootGroup\.processors\[0\]\.name/);
  });

  it('runs a valid flow and stops cleanly on SIGTERM', async () => {
    const { code, lines } = await attempt(flowWith([processor({ properties: { fileSize: '10 B' } })]));
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain('stopped cleanly');
  });

  it('journals provenance on disk by default, and keeps none there when volatile or off', async () => {
    const flow = flowWith([processor({ properties: { fileSize: '10 B' } })]);
    const provenanceDir = join(dir, 'data', 'provenance-repository');
    for (const provenance of ['off', 'volatile'] as const) {
      const { code, lines } = await attempt(flow, { provenance });
      expect(code).toBe(0);
      expect(lines.join('\n')).toContain(`provenance ${provenance}`);
      expect(existsSync(provenanceDir)).toBe(false);
    }
    const { code, lines } = await attempt(flow);
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain('provenance durable');
    expect(readdirSync(provenanceDir).length).toBeGreaterThan(0);
  });
});
