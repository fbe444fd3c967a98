import { type FlowFile, ProcessException } from '@sluice/api';
import { describe, expect, it } from 'vitest';
import type { Engine, FlowFileRecord } from './index.ts';
import { readContents, writeContents } from './index.ts';
import {
  bench,
  depth,
  events,
  MODES,
  processor,
  queued,
  type RepositoryMode,
  testProcessor,
  until,
  useHarness,
} from './integration.test-helper.ts';

describe.each(MODES)('process session through the engine (%s repositories)', (mode: RepositoryMode) => {
  const h = useHarness();

  /** An engine with one processor `p` between port `src` (connection `in`) and ports `out-<r>` (connections `to-<r>`). */
  async function withProcessor(
    definition: Parameters<typeof testProcessor>[1],
    options: {
      relationships?: string[];
      autoTerminate?: string[];
      scheduling?: Record<string, string | number>;
      extra?: Parameters<typeof testProcessor>[2];
      adminYieldMs?: number;
    } = {},
  ): Promise<Engine> {
    const relationships = options.relationships ?? ['success'];
    const declared = Object.fromEntries([...relationships, ...(options.autoTerminate ?? [])].map((r) => [r, r]));
    const type = testProcessor('UnderTest', definition, { relationships: declared, ...options.extra });
    const engine = await h.open(mode, [type], { scheduler: { administrativeYieldMs: options.adminYieldMs ?? 200 } });
    await engine.applyFlow(
      bench(
        processor({
          id: 'p',
          name: 'Under Test',
          type: 'UnderTest',
          autoTerminate: options.autoTerminate ?? [],
          scheduling: options.scheduling ?? {},
        }),
        relationships,
      ),
    );
    return engine;
  }

  it('commits: taken FlowFiles leave the input queue and arrive downstream with their content', async () => {
    const engine = await withProcessor((session) => {
      for (const ff of session.getBatch(10)) session.transfer(session.putAttribute(ff, 'seen', 'yes'), 'success');
    });
    await engine.enqueue('in', 'one');
    await engine.enqueue('in', 'two');
    await engine.runOnce('p');
    expect(depth(engine, 'in')).toBe(0);
    const out = queued(engine, 'to-success');
    expect(out.map((f) => f.text)).toEqual(['one', 'two']);
    expect(out.every((f) => f.attributes.get('seen') === 'yes')).toBe(true);
  });

  it('rolls back when onTrigger throws: FlowFiles back in the input queue, penalized, an ERROR bulletin, administrative yield', async () => {
    const engine = await withProcessor(
      (session) => {
        const ff = session.get();
        if (ff !== undefined) session.transfer(session.write(ff, 'changed'), 'success');
        throw new Error('boom: the remote end hung up');
      },
      { adminYieldMs: 60_000 },
    );
    const original = await engine.enqueue('in', 'original', { a: '1' });
    await engine.runOnce('p');
    expect(depth(engine, 'to-success')).toBe(0);
    const back = queued(engine, 'in');
    expect(back).toHaveLength(1);
    expect(back[0]?.uuid).toBe(original.uuid);
    expect(back[0]?.text).toBe('original');
    expect(back[0]?.penalized).toBe(true);
    const bulletins = engine.bulletins.list({ componentId: 'p' });
    expect(bulletins).toHaveLength(1);
    expect(bulletins[0]).toMatchObject({ level: 'ERROR', componentName: 'Under Test', componentType: 'UnderTest' });
    expect(bulletins[0]?.message).toContain('boom: the remote end hung up');
    // Unexpected errors yield the processor administratively.
    expect(engine.component('p')?.yieldUntil ?? 0).toBeGreaterThan(Date.now() + 50_000);
    // No provenance for a rolled-back session.
    expect((await events(engine)).filter((e) => e.componentId === 'p')).toEqual([]);
  });

  it('a ProcessException rolls back and penalizes without yielding the processor', async () => {
    const engine = await withProcessor(
      (session) => {
        session.get();
        throw new ProcessException('record 3 is malformed');
      },
      { adminYieldMs: 60_000 },
    );
    await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    expect(queued(engine, 'in')[0]?.penalized).toBe(true);
    expect(engine.component('p')?.yieldUntil ?? 0).toBeLessThan(Date.now() + 1000);
    expect(engine.bulletins.list({ componentId: 'p' })[0]?.message).toContain('record 3 is malformed');
  });

  it('rolls back with a clear error when a FlowFile is neither transferred nor removed', async () => {
    let created: string | undefined;
    const engine = await withProcessor((session) => {
      session.get();
      created = session.create().uuid;
    });
    const ff = await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    expect(queued(engine, 'in').map((f) => f.uuid)).toEqual([ff.uuid]);
    const message = engine.bulletins.list({ componentId: 'p' })[0]?.message ?? '';
    expect(message).toMatch(/was neither transferred nor removed/);
    expect(message).toContain(ff.uuid);
    expect(created).toBeDefined();
    expect(depth(engine, 'to-success')).toBe(0);
  });

  it('refuses a transfer to an unknown relationship, naming the valid ones', async () => {
    let error: unknown;
    const engine = await withProcessor(
      (session) => {
        const ff = session.get();
        if (ff === undefined) return;
        try {
          session.transfer(ff, 'sucess');
        } catch (e) {
          error = e;
        }
        session.transfer(ff, 'success');
      },
      { relationships: ['success', 'failure'] },
    );
    await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/no relationship "sucess" \(it has: success, failure\)/);
    expect(depth(engine, 'to-success')).toBe(1);
  });

  it('refuses a stale FlowFile version', async () => {
    let error: unknown;
    const engine = await withProcessor((session) => {
      const ff = session.get();
      if (ff === undefined) return;
      const newer = session.putAttribute(ff, 'k', 'v');
      try {
        session.transfer(ff, 'success');
      } catch (e) {
        error = e;
      }
      session.transfer(newer, 'success');
    });
    await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    expect(String(error)).toMatch(/not the most recent version/);
    expect(queued(engine, 'to-success')[0]?.attributes.get('k')).toBe('v');
  });

  it('transfer without a relationship returns the FlowFile to the queue it came from', async () => {
    const engine = await withProcessor((session) => {
      const ff = session.get();
      if (ff !== undefined) session.transfer(session.putAttribute(ff, 'looked', 'once'));
    });
    const ff = await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    const back = queued(engine, 'in');
    expect(back.map((f) => f.uuid)).toEqual([ff.uuid]);
    expect(back[0]?.attributes.get('looked')).toBe('once');
    expect(back[0]?.penalized).toBe(false);
    expect(depth(engine, 'to-success')).toBe(0);
  });

  it('remove ends the FlowFile with a DROP event naming the processor', async () => {
    const engine = await withProcessor((session) => {
      const ff = session.get();
      if (ff !== undefined) session.remove(ff);
    });
    const ff = await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    expect(depth(engine, 'in')).toBe(0);
    const drops = await events(engine, { flowFileUuid: ff.uuid, eventType: 'DROP' });
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ componentId: 'p', details: 'Removed by Under Test', sourceQueueId: 'in' });
  });

  it('an auto-terminated relationship drops with details', async () => {
    const engine = await withProcessor(
      (session) => {
        const ff = session.get();
        if (ff !== undefined) session.transfer(ff, 'original');
      },
      { autoTerminate: ['original'] },
    );
    const ff = await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    const drops = await events(engine, { flowFileUuid: ff.uuid, eventType: 'DROP' });
    expect(drops.map((e) => e.details)).toEqual(['Auto-Terminated by original Relationship']);
    expect(depth(engine, 'in')).toBe(0);
  });

  it("a FlowFile's DROP comes after the events its processor reported (a sink's SEND, then its DROP)", async () => {
    const engine = await withProcessor(
      (session) => {
        const ff = session.get();
        if (ff === undefined) return;
        session.provenance.send(ff, 'file:///out/x');
        session.transfer(session.putAttribute(ff, 'written', 'yes'), 'success');
      },
      { relationships: [], autoTerminate: ['success'] },
    );
    const ff = await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    const lineage = (await events(engine, { flowFileUuid: ff.uuid })).sort((a, b) => a.eventId - b.eventId);
    expect(lineage.map((e) => e.eventType)).toEqual(['SEND', 'DROP']);
    expect(lineage[1]?.details).toBe('Auto-Terminated by success Relationship');
  });

  it('a relationship with two connections sends the FlowFile to both: the second is a clone with the same content', async () => {
    const type = testProcessor('Fan', (session) => {
      const ff = session.get();
      if (ff !== undefined) session.transfer(ff, 'success');
    });
    const engine = await h.open(mode, [type]);
    await engine.applyFlow({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'Root',
        inputPorts: [{ id: 'src', name: 'src', state: 'STOPPED' }],
        outputPorts: [
          { id: 'a', name: 'a', state: 'STOPPED' },
          { id: 'b', name: 'b', state: 'STOPPED' },
        ],
        processors: [processor({ id: 'p', type: 'Fan' })],
        connections: [
          { id: 'in', source: { id: 'src' }, destination: { id: 'p' } },
          { id: 'to-a', source: { id: 'p' }, destination: { id: 'a' }, relationships: ['success'] },
          { id: 'to-b', source: { id: 'p' }, destination: { id: 'b' }, relationships: ['success'] },
        ],
      },
    });
    const ff = await engine.enqueue('in', 'shared bytes', { k: 'v' });
    await engine.runOnce('p');
    const [a] = queued(engine, 'to-a');
    const [b] = queued(engine, 'to-b');
    expect(a?.uuid).toBe(ff.uuid);
    expect(b?.uuid).not.toBe(ff.uuid);
    expect(b?.text).toBe('shared bytes');
    expect(b?.attributes.get('k')).toBe('v');
    expect(b?.attributes.get('uuid')).toBe(b?.uuid);
    expect(b?.flowFile.claim).toEqual(a?.flowFile.claim);
    const clones = await events(engine, { eventType: 'CLONE' });
    expect(clones).toHaveLength(1);
    expect(clones[0]).toMatchObject({ flowFileUuid: ff.uuid, childUuids: [b?.uuid] });
    // Both point at the same resource: each holds a claimant.
    const claim = a?.flowFile.claim;
    if (claim === null || claim === undefined) throw new Error('expected content');
    expect(engine.content.claimantCount(claim.resourceId)).toBe(2);
  });

  it('create(parent) forks: children inherit attributes; one FORK event lists them', async () => {
    const children: string[] = [];
    const engine = await withProcessor(
      (session) => {
        const parent = session.get();
        if (parent === undefined) return;
        const text = session.read(parent).toString('utf8');
        for (const part of text.split(',')) {
          const child = session.write(session.create(parent), part);
          children.push(child.uuid);
          session.transfer(session.putAttribute(child, 'part', part), 'success');
        }
        session.transfer(parent, 'original');
      },
      { autoTerminate: ['original'] },
    );
    const parent = await engine.enqueue('in', 'a,b,c', { origin: 'test' });
    await engine.runOnce('p');
    const out = queued(engine, 'to-success');
    expect(out.map((f) => f.text)).toEqual(['a', 'b', 'c']);
    expect(
      out.every((f) => f.attributes.get('origin') === 'test' && f.flowFile.lineageStartDate === parent.lineageStartDate),
    ).toBe(true);
    const forks = await events(engine, { eventType: 'FORK' });
    expect(forks).toHaveLength(1);
    expect(forks[0]?.flowFileUuid).toBe(parent.uuid);
    expect([...(forks[0]?.childUuids ?? [])].sort()).toEqual([...children].sort());
    // Children get FORK only (no CREATE); the parent ends with DROP.
    expect(await events(engine, { eventType: 'CREATE' })).toEqual([]);
    expect((await events(engine, { eventType: 'DROP' })).map((e) => e.flowFileUuid)).toEqual([parent.uuid]);
  });

  it('create([a, b]) joins: the child has the attributes the parents share and a JOIN event', async () => {
    const engine = await withProcessor(
      (session) => {
        const parents = session.getBatch(2);
        if (parents.length < 2) {
          session.transfer(parents);
          return;
        }
        const child = session.create(parents);
        session.transfer(child, 'success');
        session.transfer(parents, 'original');
      },
      { autoTerminate: ['original'] },
    );
    const a = await engine.enqueue('in', 'a', { same: 'yes', differs: 'a', onlyA: '1' });
    const b = await engine.enqueue('in', 'b', { same: 'yes', differs: 'b' });
    await engine.runOnce('p');
    const [child] = queued(engine, 'to-success');
    expect(child).toBeDefined();
    expect(child?.attributes.get('same')).toBe('yes');
    expect(child?.attributes.has('differs')).toBe(false);
    expect(child?.attributes.has('onlyA')).toBe(false);
    expect(child?.attributes.get('uuid')).toBe(child?.uuid);
    const joins = await events(engine, { eventType: 'JOIN' });
    expect(joins).toHaveLength(1);
    expect(joins[0]?.flowFileUuid).toBe(child?.uuid);
    expect([...(joins[0]?.parentUuids ?? [])].sort()).toEqual([a.uuid, b.uuid].sort());
  });

  it('clone with a range points at a slice of the content', async () => {
    const engine = await withProcessor((session) => {
      const ff = session.get();
      if (ff === undefined) return;
      const slice = session.clone(ff, { offset: 6, size: 5 });
      const whole = session.clone(ff);
      session.transfer([ff, slice, whole], 'success');
    });
    const ff = await engine.enqueue('in', 'hello world!');
    await engine.runOnce('p');
    const out = queued(engine, 'to-success');
    expect(out.map((f) => f.text).sort()).toEqual(['hello world!', 'hello world!', 'world'].sort());
    // NiFi: the whole copy is a CLONE, the slice a child of a FORK of the parent.
    const clones = await events(engine, { eventType: 'CLONE' });
    expect(clones).toHaveLength(1);
    expect(clones[0]?.flowFileUuid).toBe(ff.uuid);
    const forks = await events(engine, { eventType: 'FORK' });
    expect(forks).toHaveLength(1);
    expect(forks[0]?.flowFileUuid).toBe(ff.uuid);
    expect(forks[0]?.childUuids).toHaveLength(1);
  });

  it('writeContents writes several contents at once; readContents reads them back (one read per back-to-back run)', async () => {
    const texts = ['alpha', '', 'gamma!', 'd'];
    let read: string[] = [];
    const engine = await withProcessor((session) => {
      const batch = session.getBatch(10);
      if (batch.length === 0) return;
      const created = texts.map(() => session.create());
      const written = writeContents(
        session,
        created,
        texts.map((t) => Buffer.from(t)),
      );
      // Contents written one after another lie back to back: the whole run comes in one read.
      read = readContents(session, [...written, ...batch]).map((b) => b.toString());
      session.transfer([...written, ...batch], 'success');
    });
    await engine.enqueue('in', 'queued');
    await engine.runOnce('p');
    expect(read).toEqual([...texts, 'queued']);
    const out = queued(engine, 'to-success');
    expect(out.map((f) => f.text).sort()).toEqual([...texts, 'queued'].sort());
    expect(out.every((f) => f.flowFile.size === Buffer.byteLength(f.text))).toBe(true);
  });

  it('write, append and merge (header, footer, demarcator) produce the right content and CONTENT_MODIFIED', async () => {
    const engine = await withProcessor(
      async (session) => {
        const all = session.getBatch(3);
        const [first, second, third] = all;
        if (first === undefined || second === undefined || third === undefined) {
          session.transfer(all);
          return;
        }
        const written = session.write(first, 'W');
        const appended = session.append(session.append(written, '+A'), Buffer.from('+B'));
        const merged = await session.merge([appended, second], third, { header: '[', footer: ']', demarcator: '|' });
        session.transfer([appended, second, merged], 'success');
      },
      { relationships: ['success'] },
    );
    const one = await engine.enqueue('in', 'one');
    await engine.enqueue('in', 'two');
    const three = await engine.enqueue('in', 'three');
    await engine.runOnce('p');
    const out = new Map(queued(engine, 'to-success').map((f) => [f.uuid, f.text]));
    expect(out.get(one.uuid)).toBe('W+A+B');
    expect(out.get(three.uuid)).toBe('[W+A+B|two]');
    const modified = await events(engine, { eventType: 'CONTENT_MODIFIED' });
    expect(modified.map((e) => e.flowFileUuid).sort()).toEqual([one.uuid, three.uuid].sort());
    const forThree = modified.find((e) => e.flowFileUuid === three.uuid);
    expect(forThree).toMatchObject({ fileSize: '[W+A+B|two]'.length, previousFileSize: 'three'.length });
    expect(await events(engine, { eventType: 'ATTRIBUTES_MODIFIED' })).toEqual([]);
  });

  it('emits ATTRIBUTES_MODIFIED only for a FlowFile that got no other event', async () => {
    const engine = await withProcessor(
      (session) => {
        const [attrsOnly, withRoute, withContent, forked] = session.getBatch(4);
        if (attrsOnly === undefined || withRoute === undefined || withContent === undefined || forked === undefined)
          throw new Error('expected 4 FlowFiles');
        session.transfer(session.putAttribute(attrsOnly, 'x', '1'), 'success');
        const routed = session.putAttribute(withRoute, 'x', '1');
        session.provenance.route(routed, 'success', 'matched rule x');
        session.transfer(routed, 'success');
        session.transfer(session.write(session.putAttribute(withContent, 'x', '1'), 'new'), 'success');
        const parent = session.putAttribute(forked, 'x', '1');
        session.transfer(session.create(parent), 'success');
        session.transfer(parent, 'success');
      },
      { scheduling: {} },
    );
    const attrsOnly = await engine.enqueue('in', 'a');
    const withRoute = await engine.enqueue('in', 'b');
    const withContent = await engine.enqueue('in', 'c');
    const forked = await engine.enqueue('in', 'd');
    await engine.runOnce('p');
    const byType = async (uuid: string) => (await events(engine, { flowFileUuid: uuid })).filter((e) => e.flowFileUuid === uuid);
    expect((await byType(attrsOnly.uuid)).map((e) => e.eventType)).toEqual(['ATTRIBUTES_MODIFIED']);
    expect((await byType(withRoute.uuid)).map((e) => e.eventType)).toEqual(['ROUTE']);
    expect((await byType(withContent.uuid)).map((e) => e.eventType)).toEqual(['CONTENT_MODIFIED']);
    expect((await byType(forked.uuid)).map((e) => e.eventType)).toEqual(['FORK']);
    const modified = (await byType(attrsOnly.uuid))[0];
    expect(modified?.attributes.get('x')).toBe('1');
    expect(modified?.previousAttributes.has('x')).toBe(false);
  });

  it('SEND records the attributes of the moment it was reported', async () => {
    const engine = await withProcessor((session) => {
      let ff = session.get();
      if (ff === undefined) return;
      ff = session.putAttribute(ff, 'stage', 'before-send');
      session.provenance.send(ff, 'https://example.test/upload', { details: 'uploaded', durationMs: 12 });
      ff = session.putAttribute(ff, 'stage', 'after-send');
      session.transfer(ff, 'success');
    });
    const ff = await engine.enqueue('in', 'x');
    await engine.runOnce('p');
    const sends = await events(engine, { eventType: 'SEND' });
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ transitUri: 'https://example.test/upload', details: 'uploaded', eventDurationMs: 12 });
    expect(sends[0]?.attributes.get('stage')).toBe('before-send');
    expect(queued(engine, 'to-success')[0]?.attributes.get('stage')).toBe('after-send');
    // SEND covers the attribute change: no ATTRIBUTES_MODIFIED.
    expect((await events(engine, { flowFileUuid: ff.uuid })).map((e) => e.eventType)).toEqual(['SEND']);
  });

  it('an explicit commit mid-trigger is durable and visible downstream; a later failure rolls back only what followed', async () => {
    let seenDownstream = -1;
    let engineRef: Engine | undefined;
    const engine = await withProcessor(async (session) => {
      const first = session.get();
      if (first === undefined) return;
      session.transfer(first, 'success');
      await session.commit();
      seenDownstream = engineRef === undefined ? -1 : depth(engineRef, 'to-success');
      const second = session.get();
      if (second === undefined) return;
      session.transfer(session.putAttribute(second, 'half', 'done'), 'success');
      throw new Error('failed after the first commit');
    });
    engineRef = engine;
    const first = await engine.enqueue('in', '1');
    const second = await engine.enqueue('in', '2');
    await engine.runOnce('p');
    expect(seenDownstream).toBe(1);
    expect(queued(engine, 'to-success').map((f) => f.uuid)).toEqual([first.uuid]);
    const back = queued(engine, 'in');
    expect(back.map((f) => f.uuid)).toEqual([second.uuid]);
    expect(back[0]?.attributes.has('half')).toBe(false);
    expect(back[0]?.penalized).toBe(true);
  });

  it('an explicit commit followed by more work commits both parts', async () => {
    const engine = await withProcessor(async (session) => {
      const first = session.get();
      if (first === undefined) return;
      session.transfer(first, 'success');
      await session.commit();
      const second = session.get();
      if (second !== undefined) session.transfer(second, 'success');
    });
    await engine.enqueue('in', '1');
    await engine.enqueue('in', '2');
    await engine.runOnce('p');
    expect(queued(engine, 'to-success').map((f) => f.text)).toEqual(['1', '2']);
  });

  it('rollback() inside onTrigger puts FlowFiles back unchanged and the session can continue', async () => {
    let again: FlowFile | undefined;
    const engine = await withProcessor((session) => {
      const ff = session.get();
      if (ff === undefined) return;
      session.write(session.putAttribute(ff, 'tried', 'yes'), 'scratch');
      session.rollback();
      again = session.get();
      if (again !== undefined) session.transfer(again, 'success');
    });
    const ff = await engine.enqueue('in', 'keep me');
    await engine.runOnce('p');
    expect(again?.uuid).toBe(ff.uuid);
    const out = queued(engine, 'to-success');
    expect(out.map((f) => f.text)).toEqual(['keep me']);
    expect(out[0]?.attributes.has('tried')).toBe(false);
    expect(await events(engine, { componentId: 'p' })).toEqual([]);
    expect(engine.bulletins.list({ componentId: 'p' })).toEqual([]);
  });

  it('content claimant counts return to zero once FlowFiles are dropped (no leak), also after a rollback', async () => {
    let fail = true;
    const written = new Set<string>();
    const note = (ff: FlowFile): FlowFile => {
      const claim = (ff as FlowFileRecord).claim;
      if (claim !== null) written.add(claim.resourceId);
      return ff;
    };
    const engine = await withProcessor((session) => {
      const ff = session.get();
      if (ff === undefined) return;
      const changed = note(session.append(note(session.write(ff, 'rewritten')), '!'));
      const copy = session.clone(changed);
      const slice = session.clone(changed, { offset: 0, size: 3 });
      const child = note(session.write(session.create(changed), 'child'));
      if (fail) throw new Error('first attempt fails');
      session.remove([changed, copy, slice, child]);
    });
    const counts = () => [...written].map((r) => engine.content.claimantCount(r));
    const input = await engine.enqueue('in', 'input content');
    const inputResource = input.claim?.resourceId ?? '';
    expect(engine.content.claimantCount(inputResource)).toBe(1);
    await engine.runOnce('p');
    // Rolled back: the input keeps its one claimant; nothing the session wrote is claimed.
    expect(depth(engine, 'in')).toBe(1);
    expect(written.size).toBeGreaterThan(0);
    expect(engine.content.claimantCount(inputResource)).toBe(1);
    expect(counts().every((n) => n === 0 || n === (written.has(inputResource) ? 1 : 0))).toBe(true);
    await engine.emptyQueue('in');
    await until(() => engine.content.claimantCount(inputResource) === 0, 'the emptied FlowFile to release its content');
    fail = false;
    written.clear();
    const second = await engine.enqueue('in', 'second input');
    if (second.claim !== null) written.add(second.claim.resourceId);
    await engine.runOnce('p');
    expect(depth(engine, 'in')).toBe(0);
    expect((await events(engine, { eventType: 'DROP', flowFileUuid: second.uuid })).length).toBeGreaterThanOrEqual(1);
    await until(() => counts().every((n) => n === 0), `claimant counts to reach 0 (now ${counts().join(', ')})`);
  });

  it('a commit the FlowFile repository refuses rolls back cleanly: content counts intact, processor not stuck', async () => {
    const written = new Set<string>();
    let broken = true;
    const engine = await withProcessor((session) => {
      const ff = session.get();
      if (ff === undefined) return;
      const changed = session.write(ff, 'new content');
      const claim = (changed as FlowFileRecord).claim;
      if (claim !== null) written.add(claim.resourceId);
      session.remove(session.clone(changed));
      // A lone surrogate is not a valid state key: the repository refuses the whole transaction.
      if (broken) session.state.set('bad\uD800key', 'x');
      session.transfer(changed, 'success');
    });
    const input = await engine.enqueue('in', 'input');
    const inputResource = input.claim?.resourceId ?? '';
    await engine.runOnce('p');
    expect(engine.component('p')?.activeTasks).toBe(0);
    expect(engine.component('p')?.runState).toBe('STOPPED');
    const [back] = queued(engine, 'in');
    expect(back?.uuid).toBe(input.uuid);
    expect(back?.penalized).toBe(true);
    expect(depth(engine, 'to-success')).toBe(0);
    expect(engine.bulletins.list({ componentId: 'p' })[0]?.message).toMatch(/lone surrogate/);
    expect(engine.content.claimantCount(inputResource)).toBe(1);
    for (const r of written) if (r !== inputResource) expect(engine.content.claimantCount(r)).toBe(0);
    // Fixed, the same FlowFile goes through and everything balances.
    broken = false;
    await engine.emptyQueue('in');
    await engine.enqueue('in', 'again');
    await engine.runOnce('p');
    expect(queued(engine, 'to-success').map((f) => f.text)).toEqual(['new content']);
  });

  it('state set/get/scan inside a session commits with it, is discarded on rollback and is visible to the next session', async () => {
    const observed: Array<{ n: string | undefined; keys: string[]; count: number }> = [];
    const engine = await withProcessor((session, context) => {
      const ff = session.get();
      if (ff === undefined) return;
      const n = Number(session.state.get('n') ?? '0') + 1;
      session.state.set('n', String(n));
      session.state.set(`item.${ff.getAttribute('name') ?? '?'}`, ff.uuid);
      session.state.set('other', 'x');
      session.state.delete('other');
      observed.push({
        n: session.state.get('n'),
        keys: session.state.scan({ prefix: 'item.' }).map(([k]) => k),
        count: session.state.count(),
      });
      if (ff.getAttribute('fail') === 'yes') throw new ProcessException('failing on purpose');
      // The committed state is what the context reader sees, not the pending writes.
      observed.push({ n: context.state.get('n'), keys: context.state.scan().map(([k]) => k), count: context.state.count() });
      session.transfer(ff, 'success');
    });
    await engine.enqueue('in', 'a', { name: 'a' });
    await engine.runOnce('p');
    expect(engine.state.get('p', 'n')).toBe('1');
    await engine.enqueue('in', 'b', { name: 'b', fail: 'yes' });
    await engine.runOnce('p');
    expect(engine.state.get('p', 'n')).toBe('1');
    expect(engine.state.get('p', 'item.b')).toBeUndefined();
    await engine.emptyQueue('in');
    await engine.enqueue('in', 'c', { name: 'c' });
    await engine.runOnce('p');
    expect(observed).toEqual([
      { n: '1', keys: ['item.a'], count: 2 },
      { n: undefined, keys: [], count: 0 },
      { n: '2', keys: ['item.a', 'item.b'], count: 3 },
      { n: '2', keys: ['item.a', 'item.c'], count: 3 },
      { n: '1', keys: ['item.a', 'n'], count: 2 },
    ]);
    expect(engine.state.get('p', 'n')).toBe('2');
    expect(engine.state.scan('p', { prefix: 'item.' }).map(([k]) => k)).toEqual(['item.a', 'item.c']);
  });
});
