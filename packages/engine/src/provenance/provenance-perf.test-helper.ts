/**
 * Provenance repository benchmark (not a test). Run from the repository root:
 *
 *   node --expose-gc --import tsx packages/engine/src/provenance/provenance-perf.test-helper.ts [events=1000000] [dir]
 *
 * Appends realistic events (UUIDv7 FlowFiles with 4-5 events each, 10% forked into 3 children,
 * 5 attributes of ~200 bytes of JSON, 20 components, one hour of event time) in group commits of
 * 100 events, then measures: main-thread append+flush cost, indexing throughput (live and from a
 * cold re-index of the journal), and query latencies on the full index. Prints a report.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { attributesToJson } from '../flowfile/flowfile-record.ts';
import { uuidv7 } from '../flowfile/uuid.ts';
import { FileProvenanceRepository, type ProvenanceEventInput, type ProvenanceEventType } from './index.ts';
import { INDEX_FILE } from './index-schema.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const dir = process.argv[3] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-provenance-perf-'));
const keep = process.argv[3] !== undefined;
const COMMIT = 100;
const COMPONENTS = Array.from({ length: 20 }, (_, i) => `7f3c2a10-0000-4000-8000-${String(i).padStart(12, '0')}`);
const START = Date.now() - 3_600_000;
const SPAN_MS = 3_600_000;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;

let produced = 0;
let producedEvents = 0;
const sampleUuids: string[] = [];
const forkParents: string[] = [];
const forkChildren: string[] = [];

interface Extra {
  flowFileUuid?: string;
  transitUri?: string;
  relationship?: string;
  childUuids?: string[];
  previousAttributesJson?: string;
}

/** Events of the next FlowFiles, about `n` of them. */
function generate(n: number): ProvenanceEventInput[] {
  const events: ProvenanceEventInput[] = [];
  while (events.length < n) {
    const uuid = uuidv7();
    const comp = (k: number): string => COMPONENTS[(produced + k) % COMPONENTS.length] ?? '';
    const time = (): number => START + Math.floor(((producedEvents + events.length) / total) * SPAN_MS);
    const attrs = new Map([
      ['filename', `orders-${produced}.json`],
      ['path', '/data/in/orders/'],
      ['mime.type', 'application/json'],
      ['kafka.topic', `orders-${produced % 7}`],
      ['correlation.id', `c0ffee-${produced}-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8`],
    ]);
    const json = attributesToJson(attrs);
    // Built like a session would: one object literal of a fixed shape per event (objects made by
    // spreading a base object end up in V8's slow mode and cost ~1 µs more to read).
    const e = (type: ProvenanceEventType, k: number, more: Extra = {}): ProvenanceEventInput => ({
      eventType: type,
      eventTime: time(),
      eventDurationMs: undefined,
      flowFileUuid: more.flowFileUuid ?? uuid,
      fileSize: 2048,
      previousFileSize: undefined,
      lineageStartDate: START,
      flowFileEntryDate: START,
      componentId: comp(k),
      componentType: 'Processor',
      componentName: undefined,
      transitUri: more.transitUri,
      sourceSystemFlowFileId: undefined,
      alternateIdentifierUri: undefined,
      details: undefined,
      relationship: more.relationship,
      sourceQueueId: undefined,
      parentUuids: undefined,
      childUuids: more.childUuids,
      attributesJson: json,
      previousAttributesJson: more.previousAttributesJson,
      contentClaim: undefined,
      previousContentClaim: undefined,
    });
    if (produced % 10 === 0) {
      const kids = [uuidv7(), uuidv7(), uuidv7()];
      events.push(e('RECEIVE', 0), e('FORK', 1, { childUuids: kids }), e('DROP', 2));
      for (const kid of kids) {
        events.push(
          e('ROUTE', 3, { flowFileUuid: kid, relationship: 'matched' }),
          e('SEND', 4, { flowFileUuid: kid, transitUri: 'kafka://out' }),
        );
      }
      if (forkParents.length < 500) forkParents.push(uuid);
      if (forkChildren.length < 500 && kids[1] !== undefined) forkChildren.push(kids[1]);
    } else {
      events.push(
        e('RECEIVE', 0),
        e('ATTRIBUTES_MODIFIED', 1, { previousAttributesJson: '{"filename":"in.json"}' }),
        e('ROUTE', 2, { relationship: 'matched' }),
      );
      events.push(e('SEND', 3, { transitUri: 'https://api.example.com/orders' }));
      if (produced % 2 === 0) events.push(e('DROP', 4));
    }
    if (produced % 997 === 0 && sampleUuids.length < 1000) sampleUuids.push(uuid);
    produced++;
  }
  producedEvents += events.length;
  return events;
}

async function main(): Promise<void> {
  out(
    `provenance benchmark: ${total} events into ${dir} (node ${process.version}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'})`,
  );
  const repo = new FileProvenanceRepository({ directory: dir, durability: 'process' });
  await repo.open();

  // 1. Main thread: append + flush in group commits of 100 events.
  let appendNs = 0n;
  let flushNs = 0n;
  let appended = 0;
  let maxLag = 0;
  const lagSamples: { t: number; indexed: number }[] = [];
  const t0 = performance.now();
  while (appended < total) {
    const batch = generate(Math.min(10_000, total - appended));
    for (let i = 0; i < batch.length; i += COMMIT) {
      const commit = batch.slice(i, i + COMMIT);
      const a = process.hrtime.bigint();
      repo.append(commit);
      const b = process.hrtime.bigint();
      repo.flush();
      const c = process.hrtime.bigint();
      appendNs += b - a;
      flushNs += c - b;
    }
    appended += batch.length;
    const lag = repo.stats().indexLag;
    maxLag = Math.max(maxLag, lag);
    lagSamples.push({ t: performance.now() - t0, indexed: appended - lag });
    // Let the worker's progress messages in, as the engine's event loop would.
    await new Promise((r) => setImmediate(r));
  }
  const appendDone = performance.now() - t0;
  await repo.waitForIndex();
  const indexDone = performance.now() - t0;
  const n = appended;
  out('');
  out(`main thread, ${n} events in commits of ${COMMIT}:`);
  out(
    `  append ${(Number(appendNs) / n).toFixed(0)} ns/event, flush ${(Number(flushNs) / n).toFixed(0)} ns/event, total ${(Number(appendNs + flushNs) / n).toFixed(0)} ns/event`,
  );
  out(`  (wall time with event generation: ${(appendDone / 1000).toFixed(2)} s; max index lag seen ${maxLag} events)`);
  out(
    `live indexing: all ${n} events searchable after ${(indexDone / 1000).toFixed(2)} s = ${Math.round(n / (indexDone / 1000))} events/s end to end`,
  );
  const mid = lagSamples[Math.floor(lagSamples.length / 4)];
  const end = lagSamples.at(-1);
  if (mid !== undefined && end !== undefined && end.t > mid.t) {
    out(
      `  indexed while appending (from 25% to the end of appends): ${Math.round((end.indexed - mid.indexed) / ((end.t - mid.t) / 1000))} events/s`,
    );
  }
  await repo.close();

  const segBytes = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.journal'))
    .reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
  const idxBytes = fs.statSync(path.join(dir, INDEX_FILE)).size;
  out(
    `storage: journal ${(segBytes / 2 ** 20).toFixed(0)} MiB (${(segBytes / n).toFixed(0)} B/event), index ${(idxBytes / 2 ** 20).toFixed(0)} MiB (${(idxBytes / n).toFixed(0)} B/event)`,
  );

  // 2. Cold re-index: delete the index and let a fresh worker rebuild it from the journal.
  for (const s of ['', '-wal', '-shm']) fs.rmSync(path.join(dir, INDEX_FILE) + s, { force: true });
  const cold = new FileProvenanceRepository({ directory: dir, durability: 'process' });
  const r0 = performance.now();
  await cold.open();
  await cold.waitForIndex();
  const reindex = performance.now() - r0;
  out(`cold re-index of the journal: ${(reindex / 1000).toFixed(2)} s = ${Math.round(n / (reindex / 1000))} events/s`);

  const rand = (k: number): number => Math.floor(Math.random() * k);
  const pick = <T>(list: T[]): T => {
    const v = list[rand(list.length)];
    if (v === undefined) throw new Error('empty sample');
    return v;
  };
  // Large splits (SplitText into 2,000 lines), for lineage near the default 5,000-node cap.
  const bigParents: string[] = [];
  const bigChildren: string[] = [];
  for (let f = 0; f < 20; f++) {
    const parent = uuidv7();
    const kids = Array.from({ length: 2000 }, () => uuidv7());
    bigParents.push(parent);
    for (let i = 0; i < 5; i++) bigChildren.push(kids[rand(kids.length)] ?? '');
    const at = START + SPAN_MS;
    const base = {
      fileSize: 10,
      lineageStartDate: START,
      flowFileEntryDate: START,
      componentId: pick(COMPONENTS),
      componentType: 'SplitText',
    };
    cold.append([
      {
        ...base,
        eventType: 'FORK',
        eventTime: at,
        flowFileUuid: parent,
        childUuids: kids,
        attributesJson: '{"filename":"big.txt"}',
      },
      ...kids.map(
        (k, i): ProvenanceEventInput => ({
          ...base,
          eventType: 'SEND',
          eventTime: at + 1,
          flowFileUuid: k,
          attributesJson: `{"filename":"line-${i}.txt"}`,
        }),
      ),
    ]);
    cold.flush();
  }
  await cold.waitForIndex();

  // 3. Queries on the full index.
  const time = (f: () => number): { ms: number; rows: number } => {
    const a = performance.now();
    const rows = f();
    return { ms: performance.now() - a, rows };
  };
  const report = (name: string, samples: { ms: number; rows: number }[]): void => {
    const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
    const rows = samples.reduce((s, x) => s + x.rows, 0) / samples.length;
    out(
      `  ${name}: p50 ${fmt(percentile(ms, 50))}, p99 ${fmt(percentile(ms, 99))}, max ${fmt(ms.at(-1) ?? 0)} (${samples.length} queries, ${rows.toFixed(1)} rows/nodes avg)`,
    );
  };
  out(`queries with ${n} indexed events:`);
  // Warm up (page cache, statement cache) as a running server would be.
  for (let i = 0; i < 50; i++) cold.lineage(pick(sampleUuids));
  report(
    'lineage, plain FlowFile',
    Array.from({ length: 500 }, () => time(() => cold.lineage(pick(sampleUuids)).nodes.length)),
  );
  report(
    'lineage, FORK parent (1 -> 3)',
    Array.from({ length: 300 }, () => time(() => cold.lineage(pick(forkParents)).nodes.length)),
  );
  report(
    'lineage, parent of a 2,000-way FORK',
    Array.from({ length: 40 }, () => time(() => cold.lineage(pick(bigParents)).nodes.length)),
  );
  report(
    'lineage, child of a 2,000-way FORK',
    Array.from({ length: 40 }, () => time(() => cold.lineage(pick(bigChildren)).nodes.length)),
  );
  report(
    'lineage, forked child (found from the middle)',
    Array.from({ length: 300 }, () => time(() => cold.lineage(pick(forkChildren)).nodes.length)),
  );
  const windowMs = 5 * 60_000;
  report(
    'search component + 5 min window, limit 1000',
    Array.from({ length: 200 }, () =>
      time(() => {
        const start = START + rand(SPAN_MS - windowMs);
        return cold.search({ componentId: pick(COMPONENTS), startTime: start, endTime: start + windowMs, limit: 1000 }).length;
      }),
    ),
  );
  report(
    'search component, no time range, limit 1000',
    Array.from({ length: 100 }, () => time(() => cold.search({ componentId: pick(COMPONENTS), limit: 1000 }).length)),
  );
  report(
    'search event type + 5 min window, limit 1000',
    Array.from({ length: 100 }, () =>
      time(() => {
        const start = START + rand(SPAN_MS - windowMs);
        return cold.search({ eventType: 'SEND', startTime: start, endTime: start + windowMs, limit: 1000 }).length;
      }),
    ),
  );
  report(
    'search by FlowFile uuid',
    Array.from({ length: 500 }, () => time(() => cold.search({ flowFileUuid: pick(sampleUuids) }).length)),
  );
  report(
    'search by filename',
    Array.from({ length: 500 }, () => time(() => cold.search({ filename: `orders-${rand(produced)}.json` }).length)),
  );
  report(
    'getEvent',
    Array.from({ length: 2000 }, () => time(() => (cold.getEvent(1 + rand(n)) === undefined ? 0 : 1))),
  );
  report(
    'search attribute (unindexed), 10 rows of a rare value',
    Array.from({ length: 5 }, () =>
      time(() => cold.search({ attribute: { name: 'correlation.id', value: `c0ffee-${rand(produced)}-x` }, limit: 10 }).length),
    ),
  );
  report(
    'search attribute + component + 5 min window, limit 100',
    Array.from({ length: 50 }, () =>
      time(() => {
        const start = START + rand(SPAN_MS - windowMs);
        return cold.search({
          attribute: { name: 'kafka.topic', value: 'orders-3' },
          componentId: pick(COMPONENTS),
          startTime: start,
          endTime: start + windowMs,
          limit: 100,
        }).length;
      }),
    ),
  );
  await cold.close();
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
}

await main();
