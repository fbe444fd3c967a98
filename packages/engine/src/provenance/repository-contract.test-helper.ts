import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attributesToJson } from '../flowfile/flowfile-record.ts';
import { uuidv7 } from '../flowfile/uuid.ts';
import {
  type LineageGraph,
  PROVENANCE_EVENT_TYPES,
  type ProvenanceEventInput,
  type ProvenanceEventType,
  type ProvenanceRepository,
} from './index.ts';
import { event, T0 } from './test-events.test-helper.ts';

/** Node ids of a graph, sorted. */
export function nodeIds(g: LineageGraph): string[] {
  return g.nodes.map((n) => n.id).sort();
}

/** Links of a graph as "a>b", sorted. */
export function linkIds(g: LineageGraph): string[] {
  return g.links.map((l) => `${l.source}>${l.target}`).sort();
}

export interface ContractHarness {
  repo: ProvenanceRepository;
}

/**
 * Behaviour every storing repository shares: ids, search criteria and paging, record round trip,
 * event types, lineage and its expansion. `create` returns an opened repository; `dispose` closes it.
 */
export function describeRepositoryContract(
  name: string,
  create: () => Promise<ProvenanceRepository>,
  dispose: (repo: ProvenanceRepository) => Promise<void>,
): void {
  describe(`${name}: repository contract`, () => {
    let repo: ProvenanceRepository;
    beforeEach(async () => {
      repo = await create();
    });
    afterEach(async () => {
      await dispose(repo);
    });

    const append = async (events: ProvenanceEventInput[]): Promise<number> => {
      const first = repo.append(events);
      repo.flush();
      await repo.waitForIndex();
      return first;
    };

    it('assigns increasing ids and returns the first of each batch', async () => {
      const a = repo.append([event('CREATE', uuidv7()), event('CREATE', uuidv7())]);
      const b = repo.append([event('CREATE', uuidv7())]);
      expect(b).toBe(a + 2);
      expect(repo.append([])).toBe(b + 1);
      repo.flush();
      await repo.waitForIndex();
      expect(repo.getEvent(b)?.eventType).toBe('CREATE');
    });

    it('accepts all 18 event types and rejects an unknown one without appending anything', async () => {
      const uuid = uuidv7();
      const first = await append(PROVENANCE_EVENT_TYPES.map((t) => event(t, uuid)));
      const found = repo.search({ flowFileUuid: uuid });
      expect(found.map((r) => r.eventType).reverse()).toEqual([...PROVENANCE_EVENT_TYPES]);
      for (const t of PROVENANCE_EVENT_TYPES) expect(repo.search({ eventType: t })).toHaveLength(1);
      const bad = { ...event('CREATE', uuid), eventType: 'EXPLODE' } as unknown as ProvenanceEventInput;
      expect(() => repo.append([event('CREATE', uuid), bad])).toThrow(TypeError);
      const next = repo.append([event('DROP', uuid)]);
      expect(next).toBe(first + PROVENANCE_EVENT_TYPES.length);
      repo.flush();
      await repo.waitForIndex();
      expect(repo.search({ flowFileUuid: uuid })).toHaveLength(PROVENANCE_EVENT_TYPES.length + 1);
    });

    it('round-trips every field of an event', async () => {
      const uuid = uuidv7();
      const parent = uuidv7();
      const kids = [uuidv7(), uuidv7()];
      const attrs = new Map([
        ['filename', 'report 보고서 ✓.csv'],
        ['__proto__', 'polluted?'],
        ['constructor', 'x'],
        ['quote"back\\slash', 'line\nbreak'],
        ['emoji', '😀'],
      ]);
      const full: ProvenanceEventInput = {
        eventType: 'FORK',
        eventTime: T0 + 1234,
        eventDurationMs: 17,
        flowFileUuid: uuid,
        fileSize: 2048,
        previousFileSize: 1024,
        lineageStartDate: T0 - 5000,
        flowFileEntryDate: T0 - 100,
        componentId: 'split-1',
        componentType: 'SplitText',
        componentName: 'Split lines',
        transitUri: 'mqtt://broker/topic',
        sourceSystemFlowFileId: 'src-42',
        alternateIdentifierUri: 'urn:alt:1',
        details: 'split into 2',
        relationship: 'splits',
        sourceQueueId: 'queue-9',
        parentUuids: [parent],
        childUuids: kids,
        attributesJson: attributesToJson(attrs),
        previousAttributesJson: attributesToJson(new Map([['filename', 'before.csv']])),
        contentClaim: { resourceId: '1764131212000-42', offset: 4096, length: 2048 },
        previousContentClaim: { resourceId: '1764131212000-41', offset: 0, length: 1024 },
      };
      const id = await append([full]);
      const r = repo.getEvent(id);
      expect(r).toBeDefined();
      if (r === undefined) return;
      expect(r).toEqual({
        eventId: id,
        eventType: 'FORK',
        eventTime: T0 + 1234,
        eventDurationMs: 17,
        flowFileUuid: uuid,
        fileSize: 2048,
        previousFileSize: 1024,
        lineageStartDate: T0 - 5000,
        flowFileEntryDate: T0 - 100,
        componentId: 'split-1',
        componentType: 'SplitText',
        componentName: 'Split lines',
        transitUri: 'mqtt://broker/topic',
        sourceSystemFlowFileId: 'src-42',
        alternateIdentifierUri: 'urn:alt:1',
        details: 'split into 2',
        relationship: 'splits',
        sourceQueueId: 'queue-9',
        parentUuids: [parent],
        childUuids: kids,
        attributes: attrs,
        previousAttributes: new Map([['filename', 'before.csv']]),
        contentClaim: { resourceId: '1764131212000-42', offset: 4096, length: 2048 },
        previousContentClaim: { resourceId: '1764131212000-41', offset: 0, length: 1024 },
      });
      expect(r.attributes.get('__proto__')).toBe('polluted?');
      expect([...r.attributes.keys()]).toEqual([...attrs.keys()]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();

      // Absent optional fields come back as null; previous attributes default to the current ones.
      const minimal = await append([event('CREATE', uuidv7(), { attrs: { a: '1' } })]);
      const m = repo.getEvent(minimal);
      expect(m).toMatchObject({
        eventDurationMs: null,
        previousFileSize: null,
        componentName: null,
        transitUri: null,
        sourceSystemFlowFileId: null,
        alternateIdentifierUri: null,
        details: null,
        relationship: null,
        sourceQueueId: null,
        parentUuids: [],
        childUuids: [],
        contentClaim: null,
        previousContentClaim: null,
      });
      expect(m?.previousAttributes).toEqual(new Map([['a', '1']]));
      expect(repo.getEvent(minimal + 1000)).toBeUndefined();
      expect(repo.getEvent(0)).toBeUndefined();
    });

    describe('search', () => {
      // 40 events: components a/b/c, types cycling, one per second, filenames per FlowFile.
      let first = 0;
      const uuids = Array.from({ length: 8 }, () => uuidv7());
      const types: ProvenanceEventType[] = ['RECEIVE', 'ATTRIBUTES_MODIFIED', 'ROUTE', 'SEND', 'DROP'];
      const comps = ['comp-a', 'comp-b', 'comp-c'];
      const build = (): ProvenanceEventInput[] =>
        Array.from({ length: 40 }, (_, i) => {
          const ff = i % 8;
          return event(types[i % 5] ?? 'ROUTE', uuids[ff] ?? '', {
            eventTime: T0 + i * 1000,
            componentId: comps[i % 3],
            attrs: { filename: `file-${ff}.json`, 'kafka.topic': i % 2 === 0 ? 'even' : 'odd', idx: String(i) },
          });
        });
      beforeEach(async () => {
        first = await append(build());
      });
      const idx = (rs: { attributes: ReadonlyMap<string, string> }[]): number[] => rs.map((r) => Number(r.attributes.get('idx')));
      const expected = (pred: (i: number) => boolean): number[] =>
        Array.from({ length: 40 }, (_, i) => 39 - i).filter((i) => pred(i));

      it('returns everything newest first without criteria', () => {
        const all = repo.search({});
        expect(idx(all)).toEqual(expected(() => true));
        expect(all[0]?.eventId).toBe(first + 39);
      });

      it('filters by component, type, FlowFile uuid, filename, attribute and time', () => {
        expect(idx(repo.search({ componentId: 'comp-b' }))).toEqual(expected((i) => i % 3 === 1));
        expect(idx(repo.search({ eventType: 'SEND' }))).toEqual(expected((i) => i % 5 === 3));
        expect(idx(repo.search({ flowFileUuid: uuids[2] }))).toEqual(expected((i) => i % 8 === 2));
        expect(idx(repo.search({ filename: 'file-5.json' }))).toEqual(expected((i) => i % 8 === 5));
        expect(idx(repo.search({ attribute: { name: 'kafka.topic', value: 'odd' } }))).toEqual(expected((i) => i % 2 === 1));
        expect(idx(repo.search({ startTime: T0 + 10_000, endTime: T0 + 14_000 }))).toEqual([14, 13, 12, 11, 10]);
        expect(idx(repo.search({ startTime: T0 + 35_000 }))).toEqual([39, 38, 37, 36, 35]);
        expect(idx(repo.search({ endTime: T0 + 2_000 }))).toEqual([2, 1, 0]);
      });

      it('combines criteria with AND', () => {
        expect(idx(repo.search({ componentId: 'comp-a', eventType: 'RECEIVE' }))).toEqual(
          expected((i) => i % 3 === 0 && i % 5 === 0),
        );
        expect(idx(repo.search({ componentId: 'comp-c', startTime: T0 + 5_000, endTime: T0 + 20_000 }))).toEqual(
          expected((i) => i % 3 === 2 && i >= 5 && i <= 20),
        );
        expect(idx(repo.search({ flowFileUuid: uuids[1], componentId: 'comp-b' }))).toEqual(
          expected((i) => i % 8 === 1 && i % 3 === 1),
        );
        expect(idx(repo.search({ filename: 'file-0.json', eventType: 'RECEIVE' }))).toEqual(
          expected((i) => i % 8 === 0 && i % 5 === 0),
        );
        expect(idx(repo.search({ filename: 'file-3.json', attribute: { name: 'kafka.topic', value: 'odd' } }))).toEqual(
          expected((i) => i % 8 === 3),
        );
        expect(
          idx(repo.search({ attribute: { name: 'kafka.topic', value: 'even' }, componentId: 'comp-a', endTime: T0 + 20_000 })),
        ).toEqual(expected((i) => i % 2 === 0 && i % 3 === 0 && i <= 20));
        expect(repo.search({ componentId: 'nope' })).toEqual([]);
        expect(repo.search({ filename: 'nope' })).toEqual([]);
        expect(repo.search({ attribute: { name: 'idx', value: '999' } })).toEqual([]);
        expect(repo.search({ attribute: { name: 'kafka.topic', value: 'idx' } })).toEqual([]);
        expect(repo.search({ flowFileUuid: uuidv7() })).toEqual([]);
        expect(repo.search({ startTime: T0 + 100_000 })).toEqual([]);
        expect(repo.search({ componentId: 'comp-a', eventType: 'SEND', filename: 'file-1.json', startTime: T0 + 1e6 })).toEqual(
          [],
        );
      });

      it('pages newest first with limit and beforeEventId', () => {
        const pages: number[][] = [];
        let before: number | undefined;
        for (;;) {
          const page = repo.search({
            componentId: 'comp-a',
            limit: 4,
            ...(before === undefined ? {} : { beforeEventId: before }),
          });
          if (page.length === 0) break;
          pages.push(idx(page));
          before = page.at(-1)?.eventId;
        }
        expect(pages.flat()).toEqual(expected((i) => i % 3 === 0));
        expect(pages[0]).toHaveLength(4);
        expect(idx(repo.search({ limit: 3 }))).toEqual([39, 38, 37]);
        expect(idx(repo.search({ beforeEventId: first + 3 }))).toEqual([2, 1, 0]);
        expect(idx(repo.search({ filename: 'file-2.json', limit: 2, beforeEventId: first + 30 }))).toEqual([26, 18]);
        expect(
          idx(repo.search({ attribute: { name: 'kafka.topic', value: 'odd' }, limit: 2, beforeEventId: first + 30 })),
        ).toEqual([29, 27]);
        expect(repo.search({ limit: 0 })).toEqual([]);
        expect(repo.search({ beforeEventId: first })).toEqual([]);
      });

      it('clamps the limit (default 1,000, at most 10,000)', async () => {
        const uuid = uuidv7();
        const many = Array.from({ length: 10_050 }, () => event('ROUTE', uuid, { componentId: 'bulk' }));
        await append(many);
        expect(repo.search({ componentId: 'bulk' })).toHaveLength(1000);
        expect(repo.search({ componentId: 'bulk', limit: 50_000 })).toHaveLength(10_000);
      });
    });

    describe('many FlowFiles at once', () => {
      it('finds each of 1,000 FlowFiles by uuid, and every child of a FORK with 150 children', async () => {
        const uuids = Array.from({ length: 1_000 }, () => uuidv7());
        const parent = uuidv7();
        const children = uuids.slice(0, 150);
        const first = await append([
          ...uuids.map((uuid) => event('RECEIVE', uuid, { componentId: 'many' })),
          event('FORK', parent, { componentId: 'many', childUuids: children }),
        ]);
        const forkId = first + uuids.length;
        for (const [i, uuid] of uuids.entries()) {
          const found = repo.search({ flowFileUuid: uuid }).map((e) => e.eventId);
          expect(found).toEqual(i < children.length ? [forkId, first + i] : [first + i]);
        }
        expect(repo.search({ flowFileUuid: parent }).map((e) => e.eventId)).toEqual([forkId]);
        expect(repo.search({ componentId: 'many', limit: 5_000 })).toHaveLength(1_001);
      });
    });

    describe('lineage', () => {
      it('follows a FORK (1 → 3) down from the parent and up from a child', async () => {
        const [p, c1, c2, c3] = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
        const first = await append([
          event('RECEIVE', p, { eventTime: T0 }),
          event('FORK', p, { eventTime: T0 + 1, parentUuids: [p], childUuids: [c1, c2, c3] }),
          event('DROP', p, { eventTime: T0 + 2 }),
          event('ATTRIBUTES_MODIFIED', c1, { eventTime: T0 + 3 }),
          event('SEND', c1, { eventTime: T0 + 4 }),
          event('SEND', c2, { eventTime: T0 + 5 }),
          event('DROP', c3, { eventTime: T0 + 6 }),
        ]);
        const ev = (k: number): string => `ev:${first + k}`;
        const down = repo.lineage(p);
        expect(down.truncated).toBe(false);
        expect(nodeIds(down)).toEqual([...[0, 1, 2, 3, 4, 5, 6].map(ev), `ff:${p}`, `ff:${c1}`, `ff:${c2}`, `ff:${c3}`].sort());
        expect(linkIds(down)).toEqual(
          [
            `ff:${p}>${ev(0)}`,
            `${ev(0)}>${ev(1)}`,
            `${ev(1)}>${ev(2)}`,
            `${ev(1)}>ff:${c1}`,
            `${ev(1)}>ff:${c2}`,
            `${ev(1)}>ff:${c3}`,
            `ff:${c1}>${ev(3)}`,
            `${ev(3)}>${ev(4)}`,
            `ff:${c2}>${ev(5)}`,
            `ff:${c3}>${ev(6)}`,
          ].sort(),
        );
        const fork = down.nodes.find((n) => n.id === ev(1));
        expect(fork).toMatchObject({
          kind: 'event',
          eventType: 'FORK',
          flowFileUuid: p,
          childUuids: [c1, c2, c3],
          componentId: 'comp-a',
        });

        // From the middle: the parent and its events (up), the child's own events; siblings as nodes only.
        const up = repo.lineage(c1);
        expect(nodeIds(up)).toEqual([...[0, 1, 2, 3, 4].map(ev), `ff:${p}`, `ff:${c1}`, `ff:${c2}`, `ff:${c3}`].sort());
        expect(linkIds(up)).toContain(`${ev(1)}>ff:${c1}`);
        expect(linkIds(up)).toContain(`ff:${c1}>${ev(3)}`);
        expect(linkIds(up)).toContain(`ff:${p}>${ev(0)}`);
      });

      it('follows a JOIN (3 → 1) up from the child and down from a parent', async () => {
        const [a1, a2, a3, m] = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
        const first = await append([
          event('CREATE', a1, { eventTime: T0 }),
          event('CREATE', a2, { eventTime: T0 + 1 }),
          event('CREATE', a3, { eventTime: T0 + 2 }),
          event('JOIN', m, { eventTime: T0 + 3, parentUuids: [a1, a2, a3], childUuids: [m] }),
          event('DROP', a1, { eventTime: T0 + 4 }),
          event('SEND', m, { eventTime: T0 + 5 }),
        ]);
        const ev = (k: number): string => `ev:${first + k}`;
        const fromChild = repo.lineage(m);
        expect(nodeIds(fromChild)).toEqual([...[0, 1, 2, 3, 4, 5].map(ev), `ff:${a1}`, `ff:${a2}`, `ff:${a3}`, `ff:${m}`].sort());
        expect(linkIds(fromChild)).toEqual(
          [
            `ff:${a1}>${ev(0)}`,
            `ff:${a2}>${ev(1)}`,
            `ff:${a3}>${ev(2)}`,
            `${ev(0)}>${ev(4)}`,
            `${ev(0)}>${ev(3)}`,
            `${ev(1)}>${ev(3)}`,
            `${ev(2)}>${ev(3)}`,
            `ff:${m}>${ev(3)}`,
            `${ev(3)}>${ev(5)}`,
          ].sort(),
        );
        // From a parent: the JOIN and the merged FlowFile's events; the co-parents as nodes only.
        const fromParent = repo.lineage(a2);
        expect(nodeIds(fromParent)).toEqual([ev(1), ev(3), ev(5), `ff:${a1}`, `ff:${a2}`, `ff:${a3}`, `ff:${m}`].sort());
        expect(linkIds(fromParent)).toEqual(
          [
            `ff:${a2}>${ev(1)}`,
            `${ev(1)}>${ev(3)}`,
            `ff:${a1}>${ev(3)}`,
            `ff:${a3}>${ev(3)}`,
            `ff:${m}>${ev(3)}`,
            `${ev(3)}>${ev(5)}`,
          ].sort(),
        );
      });

      it('follows CLONE and REPLAY, and chains transitively both ways from the middle', async () => {
        const [o, k, r, x, y] = [uuidv7(), uuidv7(), uuidv7(), uuidv7(), uuidv7()];
        const first = await append([
          event('RECEIVE', o, { eventTime: T0 }),
          event('CLONE', o, { eventTime: T0 + 1, childUuids: [k] }),
          event('SEND', o, { eventTime: T0 + 2 }),
          event('FORK', k, { eventTime: T0 + 3, childUuids: [r] }),
          event('DROP', r, { eventTime: T0 + 4 }),
          // A user replays r: the event belongs to the original, the new FlowFile is its child.
          event('REPLAY', r, { eventTime: T0 + 5, parentUuids: [r], childUuids: [x] }),
          event('CLONE', x, { eventTime: T0 + 6, childUuids: [y] }),
          event('SEND', y, { eventTime: T0 + 7 }),
        ]);
        const ev = (i: number): string => `ev:${first + i}`;
        const g = repo.lineage(r);
        expect(nodeIds(g)).toEqual(
          [...[0, 1, 2, 3, 4, 5, 6, 7].map(ev), `ff:${o}`, `ff:${k}`, `ff:${r}`, `ff:${x}`, `ff:${y}`].sort(),
        );
        expect(linkIds(g)).toEqual(
          expect.arrayContaining([
            `${ev(1)}>ff:${k}`,
            `ff:${k}>${ev(3)}`,
            `${ev(3)}>ff:${r}`,
            `${ev(5)}>ff:${x}`,
            `ff:${x}>${ev(6)}`,
            `${ev(6)}>ff:${y}`,
          ]),
        );
        const fromClone = repo.lineage(y);
        expect(nodeIds(fromClone)).toEqual(nodeIds(g));
      });

      it('stops at maxNodes and says so', async () => {
        const p = uuidv7();
        const kids = Array.from({ length: 50 }, () => uuidv7());
        await append([
          event('FORK', p, { childUuids: kids }),
          ...kids.map((c, i) => event('SEND', c, { eventTime: T0 + i + 1 })),
        ]);
        const full = repo.lineage(p);
        expect(full.truncated).toBe(false);
        expect(full.nodes).toHaveLength(1 + 51 + 50);
        const cut = repo.lineage(p, { maxNodes: 10 });
        expect(cut.truncated).toBe(true);
        expect(cut.nodes.length).toBeLessThanOrEqual(10);
        const ids = new Set(cut.nodes.map((n) => n.id));
        for (const l of cut.links) {
          expect(ids.has(l.source)).toBe(true);
          expect(ids.has(l.target)).toBe(true);
        }
        expect(repo.lineage(uuidv7())).toEqual({ nodes: [], links: [], truncated: false });
        // A long history of one FlowFile is cut at the cap too.
        const busy = uuidv7();
        await append(Array.from({ length: 30 }, (_, i) => event('ROUTE', busy, { eventTime: T0 + i })));
        const long = repo.lineage(busy, { maxNodes: 10 });
        expect(long).toMatchObject({ truncated: true });
        expect(long.nodes).toHaveLength(10);
        expect(repo.lineage(busy).nodes).toHaveLength(31);
      });

      it('expands the parents and children of an event by one hop', async () => {
        const [a1, a2, m, c1, c2] = [uuidv7(), uuidv7(), uuidv7(), uuidv7(), uuidv7()];
        const first = await append([
          event('CREATE', a1, { eventTime: T0 }),
          event('CREATE', a2, { eventTime: T0 + 1 }),
          event('JOIN', m, { eventTime: T0 + 2, parentUuids: [a1, a2] }),
          event('FORK', m, { eventTime: T0 + 3, childUuids: [c1, c2] }),
          event('SEND', c1, { eventTime: T0 + 4 }),
          event('SEND', c2, { eventTime: T0 + 5 }),
        ]);
        const ev = (i: number): string => `ev:${first + i}`;
        const parents = repo.expandParents(first + 2);
        expect(nodeIds(parents)).toEqual([ev(0), ev(1), ev(2), `ff:${a1}`, `ff:${a2}`, `ff:${m}`].sort());
        expect(linkIds(parents)).toEqual(
          [`ff:${a1}>${ev(0)}`, `ff:${a2}>${ev(1)}`, `${ev(0)}>${ev(2)}`, `${ev(1)}>${ev(2)}`, `ff:${m}>${ev(2)}`].sort(),
        );
        const children = repo.expandChildren(first + 3);
        expect(nodeIds(children)).toEqual([ev(3), ev(4), ev(5), `ff:${m}`, `ff:${c1}`, `ff:${c2}`].sort());
        expect(linkIds(children)).toEqual(
          [`ff:${m}>${ev(3)}`, `${ev(3)}>ff:${c1}`, `${ev(3)}>ff:${c2}`, `ff:${c1}>${ev(4)}`, `ff:${c2}>${ev(5)}`].sort(),
        );
        // The FORK's parent is the merged FlowFile: its own events (the JOIN and the FORK).
        expect(nodeIds(repo.expandParents(first + 3))).toEqual([ev(2), ev(3), `ff:${m}`, `ff:${c1}`, `ff:${c2}`].sort());
        expect(nodeIds(repo.expandChildren(first + 4))).toEqual([ev(4)]);
        expect(repo.expandParents(first + 1000)).toEqual({ nodes: [], links: [], truncated: false });
      });
    });
  });
}
