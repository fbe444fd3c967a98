import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../flowfile/uuid.ts';
import { MemoryProvenanceRepository, NoopProvenanceRepository } from './index.ts';
import { describeRepositoryContract } from './repository-contract.test-helper.ts';
import { event, T0 } from './test-events.test-helper.ts';

describeRepositoryContract(
  'MemoryProvenanceRepository',
  async () => {
    const repo = new MemoryProvenanceRepository();
    await repo.open();
    return repo;
  },
  (repo) => repo.close(),
);

describe('MemoryProvenanceRepository', () => {
  it('evicts the oldest events past its capacity, from queries and lineage alike', () => {
    const repo = new MemoryProvenanceRepository({ capacity: 10 });
    const parent = uuidv7();
    const kids = [uuidv7(), uuidv7()];
    repo.append([event('RECEIVE', parent), event('FORK', parent, { childUuids: kids })]);
    for (let i = 0; i < 23; i++) repo.append([event('ROUTE', kids[i % 2] ?? '', { eventTime: T0 + i })]);
    expect(repo.stats()).toMatchObject({ events: 10, indexLag: 0, oldestEventTime: T0 + 13 });
    expect(repo.getEvent(1)).toBeUndefined();
    expect(repo.getEvent(15)).toBeUndefined();
    expect(repo.getEvent(16)?.eventTime).toBe(T0 + 13);
    expect(repo.getEvent(25)?.eventTime).toBe(T0 + 22);
    expect(repo.getEvent(26)).toBeUndefined();
    expect(repo.search({}).map((r) => r.eventId)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    expect(repo.search({ flowFileUuid: parent })).toEqual([]);
    expect(repo.lineage(parent).nodes).toEqual([]);
    expect(repo.lineage(kids[0] ?? '').nodes.filter((n) => n.kind === 'event')).toHaveLength(5);
    expect(repo.stats().bytes).toBeGreaterThan(0);
  });

  it('drops events older than maxAgeMs on retention', async () => {
    const repo = new MemoryProvenanceRepository({ maxAgeMs: 60_000 });
    const now = Date.now();
    repo.append([
      event('CREATE', uuidv7(), { eventTime: now - 120_000 }),
      event('CREATE', uuidv7(), { eventTime: now - 90_000 }),
    ]);
    repo.append([event('CREATE', uuidv7(), { eventTime: now })]);
    await repo.enforceRetention();
    expect(repo.search({}).map((r) => r.eventId)).toEqual([3]);
    expect(repo.stats()).toMatchObject({ events: 1, oldestEventTime: now });
  });
});

describe('NoopProvenanceRepository', () => {
  it('counts ids and stores nothing', async () => {
    const repo = new NoopProvenanceRepository();
    await repo.open();
    const uuid = uuidv7();
    expect(repo.append([event('CREATE', uuid), event('SEND', uuid)])).toBe(1);
    expect(repo.append([event('DROP', uuid)])).toBe(3);
    repo.flush();
    await repo.sync();
    await repo.waitForIndex();
    await repo.enforceRetention();
    expect(repo.search({ flowFileUuid: uuid })).toEqual([]);
    expect(repo.getEvent(1)).toBeUndefined();
    const empty = { nodes: [], links: [], truncated: false };
    expect(repo.lineage(uuid)).toEqual(empty);
    expect(repo.expandParents(1)).toEqual(empty);
    expect(repo.expandChildren(1)).toEqual(empty);
    expect(repo.stats()).toEqual({ events: 0, oldestEventTime: null, bytes: 0, indexLag: 0 });
    await repo.close();
  });
});
