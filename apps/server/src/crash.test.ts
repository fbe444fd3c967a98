import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';
import { exited, startSluiceRun } from './sluice-run.test-helper.ts';

const KILLS = 20;
const PUT_BATCH = 25;

/**
 * GenerateFlowFile -> UpdateAttribute -> PutFile, run by `sluice run` in a child process that is
 * SIGKILLed at random moments and restarted, then drained. PutFile refuses to overwrite ("fail"),
 * so a FlowFile written twice (a redo after a kill) lands in `dups/` through its failure branch:
 * that is how duplicates are counted.
 */
function crashFlow(root: string, generating: boolean): FlowDocumentInput {
  return {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'crash test',
      processors: [
        {
          id: 'gen',
          name: 'Generate',
          type: 'GenerateFlowFile',
          properties: { customText: '${uuid:repeat(28)}', batchSize: '25' },
          scheduling: { period: '20 ms' },
          state: generating ? 'RUNNING' : 'STOPPED',
        },
        { id: 'name', name: 'Name it', type: 'UpdateAttribute', properties: { filename: '${uuid}.txt' }, state: 'RUNNING' },
        {
          id: 'put',
          name: 'Write',
          type: 'PutFile',
          properties: { directory: join(root, 'out'), conflictResolution: 'fail', batchSize: String(PUT_BATCH) },
          scheduling: { penaltyDuration: '0 sec' },
          autoTerminate: ['success'],
          state: 'RUNNING',
        },
        {
          id: 'dup-name',
          name: 'Name duplicate',
          type: 'UpdateAttribute',
          properties: { filename: '${uuid}-${UUID()}.dup' },
          state: 'RUNNING',
        },
        {
          id: 'dup-put',
          name: 'Write duplicate',
          type: 'PutFile',
          properties: { directory: join(root, 'dups'), conflictResolution: 'replace' },
          autoTerminate: ['success', 'failure'],
          state: 'RUNNING',
        },
      ],
      connections: [
        { id: 'gen-name', source: { id: 'gen' }, destination: { id: 'name' }, relationships: ['success'] },
        { id: 'name-put', source: { id: 'name' }, destination: { id: 'put' }, relationships: ['success'] },
        { id: 'put-dup', source: { id: 'put' }, destination: { id: 'dup-name' }, relationships: ['failure'] },
        { id: 'dup-name-put', source: { id: 'dup-name' }, destination: { id: 'dup-put' }, relationships: ['success'] },
      ],
    },
  };
}

const start = (root: string, flowFile: string) => startSluiceRun(root, flowFile);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function countFiles(dir: string): number {
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

/** Resource files in the content repository's live area (not the archive). */
function liveClaimFiles(contentDir: string): string[] {
  const out: string[] = [];
  for (const section of existsSync(contentDir) ? readdirSync(contentDir) : []) {
    const dir = join(contentDir, section);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)) if (name !== 'archive') out.push(join(section, name));
  }
  return out;
}

describe('crash safety of sluice run', () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it(`loses nothing across ${KILLS} kill -9s, duplicates at most one batch per kill, leaves no orphaned claim`, {
    timeout: 420_000,
  }, async () => {
    mkdirSync(join(root, 'out'), { recursive: true });
    const running = join(root, 'flow.json');
    const draining = join(root, 'drain.json');
    writeFileSync(running, JSON.stringify(crashFlow(root, true)));
    writeFileSync(draining, JSON.stringify(crashFlow(root, false)));

    for (let kill = 0; kill < KILLS; kill++) {
      const { child, output } = start(root, running);
      if (kill % 5 === 4) {
        // Every fifth kill lands during start-up or recovery, whatever the machine's speed.
        await sleep(Math.random() * 1500);
      } else {
        // The others at a random moment of the flow running (start-up time varies with load).
        const deadline = Date.now() + 60_000;
        while (!output().includes('[sluice] running') && child.exitCode === null && Date.now() < deadline) await sleep(20);
        await sleep(100 + Math.random() * 1200);
      }
      expect(child.exitCode, `run ${kill} exited early:\n${output()}`).toBeNull();
      child.kill('SIGKILL');
      await exited(child);
    }

    // Drain with the source stopped, until nothing moves for a while, then stop cleanly.
    const { child, output } = start(root, draining);
    let last = -1;
    let stableSince = Date.now();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await sleep(250);
      const now = countFiles(join(root, 'out')) + countFiles(join(root, 'dups'));
      if (now !== last) {
        last = now;
        stableSince = Date.now();
      } else if (Date.now() - stableSince > 2000 && output().includes('running')) break;
    }
    child.kill('SIGTERM');
    expect(await exited(child), output()).toBe(0);
    expect(output()).toContain('stopped cleanly');

    // After a clean shutdown with every queue empty, the live area holds no claim file at all:
    // content orphaned by the kills was archived at recovery, the rest released as it drained.
    expect(liveClaimFiles(join(root, 'data', 'content-repository'))).toEqual([]);

    const engine = await Engine.open({ dataDir: join(root, 'data'), registry: standardRegistry(), fileRoots: [root] });
    try {
      await engine.applyFlow({ ...crashFlow(root, false) });
      for (const connection of engine.connections()) expect(connection.queue.size().count, connection.id).toBe(0);
      for (const id of ['name', 'put', 'dup-name', 'dup-put']) await engine.stopComponent(id);

      // Every FlowFile GenerateFlowFile committed (its CREATE event is durable with the commit).
      await engine.provenance.waitForIndex();
      const created = new Set<string>();
      let before: number | undefined;
      for (;;) {
        const page = engine.provenance.search({
          eventType: 'CREATE',
          limit: 10_000,
          ...(before === undefined ? {} : { beforeEventId: before }),
        });
        for (const event of page) created.add(event.flowFileUuid);
        if (page.length < 10_000) break;
        before = page[page.length - 1]?.eventId;
      }
      expect(created.size).toBeGreaterThan(1000);

      const written = new Set(readdirSync(join(root, 'out')).filter((n) => n.endsWith('.txt')));
      const missing: string[] = [];
      for (const uuid of created) {
        if (!written.has(`${uuid}.txt`)) {
          missing.push(uuid);
          continue;
        }
        const content = readFileSync(join(root, 'out', `${uuid}.txt`));
        const expected = createHash('sha256').update(uuid.repeat(28)).digest('hex');
        expect(createHash('sha256').update(content).digest('hex'), `checksum of ${uuid}`).toBe(expected);
      }
      expect(missing, `${missing.length} committed FlowFiles never written`).toEqual([]);

      const duplicates = countFiles(join(root, 'dups'));
      console.log(
        `crash test: ${KILLS} kills, ${created.size} FlowFiles committed, all written once or more, ${duplicates} duplicates`,
      );
      expect(duplicates).toBeLessThanOrEqual(KILLS * PUT_BATCH);
      // No leftover temp files: every write either completed or was cleaned up on its redo.
      expect(readdirSync(join(root, 'out')).filter((n) => n.endsWith('.partial'))).toEqual([]);
    } finally {
      await engine.shutdown();
    }
  });
});
