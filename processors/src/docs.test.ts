import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { standardProcessors, standardServices } from './index.ts';

const repository = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the generator exactly as `npm run docs:processors` does. */
function generator(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate-processor-docs.ts', ...args], {
    cwd: repository,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('generated processor docs', () => {
  it('docs/processors matches the processor definitions (run `npm run docs:processors` if not)', () => {
    const { status, stdout, stderr } = generator('--check');
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('is up to date');
  });

  describe('in a scratch directory', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sluice-docs-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('writes a page per processor and an index, and finds them up to date', () => {
      expect(generator('--dir', dir).status).toBe(0);
      const expected = [
        ...standardProcessors.map((p) => `${p.type}.md`),
        ...standardServices.map((s) => `${s.type}.md`),
        'README.md',
      ].sort();
      expect(readdirSync(dir).sort()).toEqual(expected);
      const index = readFileSync(join(dir, 'README.md'), 'utf8');
      for (const p of standardProcessors) expect(index).toContain(`[${p.type}](${p.type}.md)`);
      const route = readFileSync(join(dir, 'RouteOnAttribute.md'), 'utf8');
      expect(route).toContain('| `matched` | FlowFiles that match the rules | when `strategy` is `match-all` or `match-any` |');
      expect(route).toContain('`match-all` (Route to "matched" if all match)');
      const getFile = readFileSync(join(dir, 'GetFile.md'), 'utf8');
      expect(getFile).toContain('- Restricted: yes: reads and deletes files on the Sluice host');
      expect(getFile).toContain('| `batchSize` | Batch Size | integer (1 to 10000) | `10` | yes |');
      expect(getFile).toContain('| `file.lastModifiedTime` |');
      expect(generator('--check', '--dir', dir).status).toBe(0);
    });

    it('fails the check for a changed, missing or stale page, and regenerating repairs it', () => {
      generator('--dir', dir);
      writeFileSync(join(dir, 'PutFile.md'), `${readFileSync(join(dir, 'PutFile.md'), 'utf8')}\nhand edit\n`);
      rmSync(join(dir, 'LogAttribute.md'));
      const marker = readFileSync(join(dir, 'README.md'), 'utf8').split('\n')[0];
      writeFileSync(join(dir, 'GetFTP.md'), `${marker}\n\n# GetFTP\n`);
      writeFileSync(join(dir, 'notes.md'), '# Hand-written notes\n');

      const check = generator('--check', '--dir', dir);
      expect(check.status).toBe(1);
      expect(check.stderr).toContain('PutFile.md differs from its definition');
      expect(check.stderr).toContain('LogAttribute.md is missing');
      expect(check.stderr).toContain('GetFTP.md documents a type that no longer exists');
      expect(check.stderr).not.toContain('notes.md');
      expect(check.stderr).toContain('npm run docs:processors');

      expect(generator('--dir', dir).status).toBe(0);
      expect(generator('--check', '--dir', dir).status).toBe(0);
      // Stale generated pages go; files the generator did not write stay.
      expect(readdirSync(dir)).not.toContain('GetFTP.md');
      expect(readFileSync(join(dir, 'notes.md'), 'utf8')).toBe('# Hand-written notes\n');
    });
  });
});
