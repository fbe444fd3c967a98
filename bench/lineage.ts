import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileProvenanceRepository, type ProvenanceEventInput, uuidv7 } from '@sluice/engine';

/**
 * Provenance at scale: appends `flowFiles` FlowFiles' worth of events (CREATE, ATTRIBUTES_MODIFIED,
 * ROUTE, SEND, DROP; every 20th FlowFile forks into 4 children), waits for the index, then times
 * lineage queries for random FlowFiles and a component + time-range search returning 1,000 rows.
 * Last, it deletes the index and times a cold re-index of the journal on the next open: the
 * indexing worker alone, without appends competing for the CPU.
 */
export async function lineageBench(flowFiles: number, queries: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lineage-'));
  let repo = new FileProvenanceRepository({ directory: dir, durability: 'process' });
  await repo.open();
  try {
    const attributes = (uuid: string) =>
      `{"uuid":"${uuid}","filename":"${uuid}.json","path":"./","mime.type":"application/json","sensor":"s-${uuid.slice(-3)}"}`;
    const sample: string[] = [];
    let events = 0;
    const appendStarted = performance.now();
    let appendMs = 0;
    const base = Date.now() - 3_600_000;
    for (let i = 0; i < flowFiles; i += 1000) {
      const batch: ProvenanceEventInput[] = [];
      for (let j = i; j < Math.min(flowFiles, i + 1000); j++) {
        const time = base + j;
        const uuid = uuidv7(time);
        const attrs = attributes(uuid);
        const event = (
          flowFileUuid: string,
          eventType: ProvenanceEventInput['eventType'],
          offset: number,
          componentId: string,
          componentType: string,
          extra: { relationship?: string; transitUri?: string; childUuids?: string[]; previous?: string } = {},
        ): ProvenanceEventInput => ({
          // One object shape for every event, as the session builds them.
          eventType,
          eventTime: time + offset,
          eventDurationMs: undefined,
          flowFileUuid,
          fileSize: 1024,
          previousFileSize: undefined,
          lineageStartDate: time,
          flowFileEntryDate: time,
          componentId,
          componentType,
          componentName: componentType,
          transitUri: extra.transitUri,
          sourceSystemFlowFileId: undefined,
          alternateIdentifierUri: undefined,
          details: undefined,
          relationship: extra.relationship,
          sourceQueueId: undefined,
          parentUuids: undefined,
          childUuids: extra.childUuids,
          attributesJson: attrs,
          previousAttributesJson: extra.previous,
          contentClaim: null,
          previousContentClaim: undefined,
        });
        batch.push(event(uuid, 'CREATE', 0, 'gen', 'GenerateFlowFile'));
        batch.push(event(uuid, 'ATTRIBUTES_MODIFIED', 1, 'update', 'UpdateAttribute', { previous: attrs }));
        batch.push(event(uuid, 'ROUTE', 2, 'route', 'RouteOnAttribute', { relationship: 'even' }));
        if (j % 20 === 0) {
          const children = [uuidv7(time), uuidv7(time), uuidv7(time), uuidv7(time)];
          batch.push(event(uuid, 'FORK', 3, 'split', 'SplitText', { childUuids: children }));
          for (const child of children) batch.push(event(child, 'DROP', 4, 'put', 'PutFile'));
          batch.push(event(uuid, 'DROP', 4, 'split', 'SplitText'));
        } else {
          batch.push(event(uuid, 'SEND', 3, 'put', 'PutFile', { transitUri: `file:///out/${uuid}` }));
          batch.push(event(uuid, 'DROP', 4, 'put', 'PutFile'));
        }
        if (j % 997 === 0) sample.push(uuid);
      }
      const t = performance.now();
      repo.append(batch);
      repo.flush();
      appendMs += performance.now() - t;
      events += batch.length;
    }
    await repo.waitForIndex();
    const indexSeconds = (performance.now() - appendStarted) / 1000;
    const lineage: number[] = [];
    for (let q = 0; q < queries; q++) {
      const uuid = sample[Math.floor(Math.random() * sample.length)] ?? '';
      const t = performance.now();
      const graph = repo.lineage(uuid);
      lineage.push(performance.now() - t);
      if (graph.nodes.length === 0) throw new Error(`empty lineage for ${uuid}`);
    }
    const search: number[] = [];
    for (let q = 0; q < Math.min(queries, 200); q++) {
      const start = base + Math.floor(Math.random() * (flowFiles - 5000));
      const t = performance.now();
      const rows = repo.search({ componentId: 'put', startTime: start, endTime: start + 5000, limit: 1000 });
      search.push(performance.now() - t);
      if (rows.length === 0) throw new Error('empty search');
    }
    await repo.close();
    for (const name of readdirSync(dir)) if (name.startsWith('provenance-index')) rmSync(join(dir, name));
    repo = new FileProvenanceRepository({ directory: dir, durability: 'process' });
    const reindexStarted = performance.now();
    await repo.open();
    await repo.waitForIndex();
    const reindexSeconds = (performance.now() - reindexStarted) / 1000;
    if (repo.search({ componentId: 'put', limit: 1 }).length === 0) throw new Error('nothing found after the re-index');
    const pct = (values: number[], p: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
    };
    return {
      events,
      appendMicrosPerEvent: (appendMs * 1000) / events,
      indexedEventsPerSecond: events / indexSeconds,
      reindexedEventsPerSecond: events / reindexSeconds,
      lineageP50Ms: pct(lineage, 50),
      lineageP99Ms: pct(lineage, 99),
      searchP50Ms: pct(search, 50),
      searchP99Ms: pct(search, 99),
    };
  } finally {
    await repo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  lineageBench(Number(process.argv[2] ?? 220_000), Number(process.argv[3] ?? 1000)).then((r) => console.log(JSON.stringify(r)));
}
