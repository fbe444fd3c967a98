import { type AnyProcessorDefinition, defineService, service } from '@sluice/api';
import { describe, expect, it } from 'vitest';
import { type FlowDocumentInput, type FlowProblem, FlowValidationError } from './index.ts';
import {
  componentStatus,
  connection,
  connectionStatus,
  Discard,
  depth,
  flow,
  PassThrough,
  port,
  processor,
  queued,
  rejection,
  testProcessor,
  until,
  useHarness,
} from './integration.test-helper.ts';

const h = useHarness();

const stringProperty = (description: string, extra: { required?: boolean; expression?: 'none' | 'flowfile' } = {}) => ({
  kind: 'string' as const,
  description,
  required: extra.required ?? false,
  sensitive: false,
  expression: extra.expression ?? 'none',
});

/** A source that stamps `tag` on what it makes; counts onScheduled per component. */
function taggingSource(scheduled: Map<string, number>, seen: Map<string, string[]>): AnyProcessorDefinition {
  return testProcessor(
    'TagSource',
    (session, context) => {
      const tag = context.getProperty('tag').asString() ?? '';
      seen.set(context.componentId, [...(seen.get(context.componentId) ?? []), tag]);
      session.transfer(session.putAttribute(session.create(), 'tag', tag), 'success');
    },
    {
      input: 'forbidden',
      properties: { tag: { ...stringProperty('a tag'), default: 'none' } },
      onScheduled: (context) => {
        scheduled.set(context.componentId, (scheduled.get(context.componentId) ?? 0) + 1);
      },
    },
  );
}

/** Upper-cases content. */
const Upper = testProcessor(
  'UpperCase',
  (session) => {
    const ff = session.get();
    if (ff !== undefined) session.transfer(session.write(ff, session.read(ff).toString('utf8').toUpperCase()), 'success');
  },
  { input: 'required' },
);

/** Writes its `text` property into each FlowFile's content. */
const WriteText = testProcessor(
  'WriteText',
  (session, context) => {
    const ff = session.get();
    if (ff !== undefined) session.transfer(session.write(ff, context.getProperty('text').asString(ff) ?? ''), 'success');
  },
  {
    input: 'required',
    properties: {
      text: stringProperty('what to write', { required: true, expression: 'flowfile' }),
      limit: { kind: 'integer', description: 'a limit', required: false, sensitive: false, expression: 'none', min: 1 },
    },
  },
);

function problemsOf(error: Error): readonly FlowProblem[] {
  expect(error).toBeInstanceOf(FlowValidationError);
  return error instanceof FlowValidationError ? error.problems : [];
}

describe('applying flows', () => {
  const twoSources = (tagA: string, tagB: string, extra: Partial<FlowDocumentInput['rootGroup']> = {}) =>
    flow({
      processors: [
        processor({ id: 'a', type: 'TagSource', properties: { tag: tagA }, scheduling: { period: '20 ms' }, state: 'RUNNING' }),
        processor({ id: 'b', type: 'TagSource', properties: { tag: tagB }, scheduling: { period: '20 ms' }, state: 'RUNNING' }),
        processor({ id: 'sink', type: 'Discard', state: 'RUNNING' }),
      ],
      connections: [connection('qa', 'a', 'sink', ['success']), connection('qb', 'b', 'sink', ['success'])],
      ...extra,
    });

  it('restarts only the processor whose configuration changed', async () => {
    const scheduled = new Map<string, number>();
    const seen = new Map<string, string[]>();
    const engine = await h.open('volatile', [taggingSource(scheduled, seen), Discard]);
    const first = await engine.applyFlow(twoSources('one', 'one'));
    expect(first).toMatchObject({ added: 5, removed: 0, restarted: [] });
    await until(() => (seen.get('a')?.length ?? 0) > 0 && (seen.get('b')?.length ?? 0) > 0, 'both sources to run');
    const generationB = engine.component('b')?.generation;
    const generationSink = engine.component('sink')?.generation;

    const report = await engine.applyFlow(twoSources('two', 'one'));
    expect(report).toMatchObject({ added: 0, removed: 0, changed: 1, restarted: ['a'] });
    expect(Object.fromEntries(scheduled)).toEqual({ a: 2, b: 1 });
    expect(engine.component('b')?.generation).toBe(generationB);
    expect(engine.component('sink')?.generation).toBe(generationSink);
    expect(['a', 'b', 'sink'].map((id) => engine.component(id)?.runState)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    await until(() => seen.get('a')?.includes('two'), 'the new property value to be used');
    expect(seen.get('b')?.includes('two')).toBe(false);

    // Applying the same document again changes nothing.
    expect(await engine.applyFlow(twoSources('two', 'one'))).toMatchObject({ added: 0, removed: 0, changed: 0, restarted: [] });
    expect(Object.fromEntries(scheduled)).toEqual({ a: 2, b: 1 });
  });

  it("changes a connection's back-pressure threshold live, without restarting anything", async () => {
    const scheduled = new Map<string, number>();
    const engine = await h.open('volatile', [taggingSource(scheduled, new Map()), Discard]);
    const doc = (threshold: number) =>
      flow({
        processors: [
          processor({ id: 'a', type: 'TagSource', state: 'RUNNING' }),
          processor({ id: 'sink', type: 'Discard', state: 'STOPPED' }),
        ],
        connections: [connection('q', 'a', 'sink', ['success'], { backPressureObjectThreshold: threshold })],
      });
    await engine.applyFlow(doc(10));
    await until(() => connectionStatus(engine, 'q').full, 'the queue to fill');
    await engine.settle();
    expect(depth(engine, 'q')).toBe(10);
    const report = await engine.applyFlow(doc(30));
    expect(report).toMatchObject({ changed: 1, restarted: [] });
    await until(() => connectionStatus(engine, 'q').full, 'the queue to fill up to the new threshold');
    await engine.settle(); // FlowFiles committed but not yet durable count for back pressure, not yet in the queue
    expect(depth(engine, 'q')).toBeGreaterThanOrEqual(30);
    expect(depth(engine, 'q')).toBeLessThanOrEqual(31);
    expect(connectionStatus(engine, 'q').thresholds.count).toBe(30);
    expect(scheduled.get('a')).toBe(1);
  });

  it('adds and removes components and connections', async () => {
    const scheduled = new Map<string, number>();
    const engine = await h.open('volatile', [taggingSource(scheduled, new Map()), Discard, PassThrough]);
    await engine.applyFlow(
      flow({
        processors: [
          processor({ id: 'a', type: 'TagSource', scheduling: { period: '1 hour' }, state: 'RUNNING' }),
          processor({ id: 'sink', type: 'Discard', state: 'RUNNING' }),
          processor({ id: 'old', type: 'TagSource', state: 'STOPPED' }),
        ],
        connections: [connection('q', 'a', 'sink', ['success']), connection('q-old', 'old', 'sink', ['success'])],
      }),
    );
    engine.component('old')?.logger.warn('something about the old one');
    expect(engine.bulletins.list({ componentId: 'old' })).toHaveLength(1);
    const report = await engine.applyFlow(
      flow({
        processors: [
          processor({ id: 'a', type: 'TagSource', scheduling: { period: '1 hour' }, state: 'RUNNING' }),
          processor({ id: 'middle', type: 'PassThrough', state: 'RUNNING' }),
          processor({ id: 'sink', type: 'Discard', state: 'RUNNING' }),
        ],
        connections: [connection('q', 'a', 'middle', ['success']), connection('q2', 'middle', 'sink', ['success'])],
      }),
    );
    expect(report).toMatchObject({ added: 2, removed: 2 });
    expect(engine.component('old')).toBeUndefined();
    expect(engine.connection('q-old')).toBeUndefined();
    expect(engine.bulletins.list({ componentId: 'old' })).toEqual([]);
    expect(engine.component('middle')?.runState).toBe('RUNNING');
    // The moved connection now feeds the new processor.
    await engine.enqueue('q', 'through the middle');
    await until(() => componentStatus(engine, 'sink').input.count >= 1, 'data through the new processor');
    expect(componentStatus(engine, 'middle').output.count).toBeGreaterThanOrEqual(1);
  });

  it('refuses to remove a connection holding FlowFiles, and then changes nothing at all', async () => {
    const scheduled = new Map<string, number>();
    const seen = new Map<string, string[]>();
    const engine = await h.open('volatile', [taggingSource(scheduled, seen), Discard]);
    const before = flow({
      outputPorts: [port('parked')],
      processors: [
        processor({ id: 'a', type: 'TagSource', properties: { tag: 'v1' }, scheduling: { period: '20 ms' }, state: 'RUNNING' }),
        processor({ id: 'sink', type: 'Discard', state: 'RUNNING' }),
      ],
      connections: [
        connection('q', 'a', 'sink', ['success']),
        connection('held', 'a', 'parked', ['success'], { name: 'Held for review' }),
      ],
    });
    await engine.applyFlow(before);
    await until(() => depth(engine, 'held') > 0, 'data in the held connection');
    const applied = engine.flow;
    const after = flow({
      processors: [
        processor({ id: 'a', type: 'TagSource', properties: { tag: 'v2' }, scheduling: { period: '20 ms' }, state: 'RUNNING' }),
        processor({ id: 'sink', type: 'Discard', state: 'RUNNING' }),
        processor({ id: 'new', type: 'Discard', state: 'RUNNING' }),
      ],
      connections: [connection('q', 'a', 'sink', ['success']), connection('q-new', 'a', 'new', ['success'])],
    });
    const error = await rejection(engine.applyFlow(after));
    const problems = problemsOf(error);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ componentId: 'held', componentName: 'Held for review' });
    expect(problems[0]?.message).toMatch(/cannot be removed: it holds \d+ FlowFiles; empty the queue first/);
    expect(error.message).toContain('"Held for review" (held)');
    // Nothing changed: same document, same components, nothing restarted, the new one not created.
    expect(engine.flow).toBe(applied);
    expect(engine.component('new')).toBeUndefined();
    expect(engine.connection('held')).toBeDefined();
    expect(engine.component('a')?.runState).toBe('RUNNING');
    expect(scheduled.get('a')).toBe(1);
    await until(() => depth(engine, 'held') > 3, 'the source to keep running');
    expect(seen.get('a')?.every((t) => t === 'v1')).toBe(true);

    // Emptied, the same change goes through.
    await engine.stopComponent('a');
    await engine.emptyQueue('held');
    expect(depth(engine, 'held')).toBe(0);
    await engine.applyFlow(after);
    expect(engine.connection('held')).toBeUndefined();
  });

  it('rejects an invalid document listing every problem with component, property and path, and applies none of it', async () => {
    const scheduled = new Map<string, number>();
    const engine = await h.open('volatile', [taggingSource(scheduled, new Map()), Discard, WriteText, Upper]);
    const good = flow({
      processors: [
        processor({ id: 'a', type: 'TagSource', scheduling: { period: '1 hour' }, state: 'RUNNING' }),
        processor({ id: 'sink', type: 'Discard', state: 'RUNNING' }),
      ],
      connections: [connection('q', 'a', 'sink', ['success'])],
    });
    await engine.applyFlow(good);
    const applied = engine.flow;
    const bad = flow({
      processors: [
        processor({
          id: 'a',
          type: 'TagSource',
          properties: { tag: 'changed' },
          scheduling: { period: '1 hour' },
          state: 'RUNNING',
        }),
        processor({ id: 'sink', type: 'Discard', state: 'RUNNING' }),
        processor({ id: 'typo', name: 'Typo', type: 'Uppercase', state: 'STOPPED' }),
        processor({ id: 'w1', name: 'Writer 1', type: 'WriteText', properties: { text: '' }, state: 'RUNNING' }),
        processor({
          id: 'w2',
          name: 'Writer 2',
          type: 'WriteText',
          properties: { text: '${filename:toUpper(}' },
          state: 'STOPPED',
        }),
        processor({
          id: 'w3',
          name: 'Writer 3',
          type: 'WriteText',
          properties: { text: 'x', colour: 'red', limit: 'lots' },
          state: 'RUNNING',
        }),
        processor({ id: 'sink', type: 'Discard' }),
      ],
      connections: [
        connection('q', 'a', 'sink', ['success']),
        connection('dangling', 'a', 'nowhere', ['success']),
        connection('wrong-rel', 'a', 'w1', ['failure']),
        connection('w2-in', 'a', 'w2', ['success']),
        connection('w3-in', 'a', 'w3', ['success']),
      ],
    });
    const error = await rejection(engine.applyFlow(bad));
    const problems = problemsOf(error);
    const find = (pattern: RegExp) => problems.find((p) => pattern.test(p.message));
    expect(find(/unknown processor type "Uppercase"; did you mean "UpperCase"\?/)).toMatchObject({
      componentId: 'typo',
      componentName: 'Typo',
      path: 'rootGroup.processors[2].type',
    });
    expect(find(/is required/)).toMatchObject({
      componentId: 'w1',
      property: 'text',
      path: 'rootGroup.processors[3].properties.text',
    });
    expect(find(/is not a property of WriteText/)).toMatchObject({ componentId: 'w3', property: 'colour' });
    expect(find(/"lots" is not a whole number/)).toMatchObject({ componentId: 'w3', property: 'limit' });
    expect(find(/id "sink" is also used at rootGroup\.processors\[1\]/)).toMatchObject({
      componentId: 'sink',
      path: 'rootGroup.processors[6]',
    });
    expect(find(/destination "nowhere" does not exist/)).toMatchObject({ componentId: 'dangling' });
    expect(find(/has no relationship "failure" \(it has: success\)/)).toMatchObject({ componentId: 'wrong-rel' });
    // A broken expression on a stopped processor does not block the apply...
    expect(problems.some((p) => p.componentId === 'w2')).toBe(false);
    expect(error.message).toMatch(
      /"Writer 1" \(w1\), property "text": is required \[at rootGroup\.processors\[3\]\.properties\.text\]/,
    );
    expect(engine.validate(bad)).toEqual(problems);
    // ...and nothing of the document was applied.
    expect(engine.flow).toBe(applied);
    expect(engine.component('w1')).toBeUndefined();
    expect(scheduled.get('a')).toBe(1);
    expect(engine.component('a')?.runState).toBe('RUNNING');
  });

  it('applies a stopped processor with a broken expression as invalid, and refuses to run it', async () => {
    const engine = await h.open('volatile', [WriteText]);
    const doc = (state: 'RUNNING' | 'STOPPED') =>
      flow({
        inputPorts: [port('src')],
        outputPorts: [port('out')],
        processors: [
          processor({ id: 'w', name: 'Writer', type: 'WriteText', properties: { text: '${filename:toUpper(}' }, state }),
        ],
        connections: [connection('in', 'src', 'w'), connection('to-out', 'w', 'out', ['success'])],
      });
    const problems = problemsOf(await rejection(engine.applyFlow(doc('RUNNING'))));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ componentId: 'w', property: 'text', path: 'rootGroup.processors[0].properties.text' });
    expect(problems[0]?.message).toMatch(/^invalid expression: /);
    await engine.applyFlow(doc('STOPPED'));
    expect(engine.component('w')?.validationErrors[0]).toMatch(/^property "text": invalid expression: /);
    expect((await rejection(engine.startComponent('w'))).message).toMatch(
      /"Writer" cannot start: property "text": invalid expression/,
    );
  });

  it('moves data across process groups through input and output ports and a funnel', async () => {
    const engine = await h.open('volatile', [Upper]);
    const doc = flow({
      inputPorts: [port('src')],
      outputPorts: [port('done')],
      funnels: [{ id: 'f' }],
      processGroups: [
        {
          id: 'g',
          name: 'Shout',
          inputPorts: [port('g-in', 'RUNNING')],
          outputPorts: [port('g-out', 'RUNNING')],
          processors: [processor({ id: 'upper', type: 'UpperCase', state: 'RUNNING' })],
          connections: [connection('g-c1', 'g-in', 'upper'), connection('g-c2', 'upper', 'g-out', ['success'])],
        },
      ],
      connections: [connection('c-in', 'src', 'g-in'), connection('c-out', 'g-out', 'f'), connection('c-done', 'f', 'done')],
    });
    await engine.applyFlow(doc);
    for (const word of ['alpha', 'beta', 'gamma']) await engine.enqueue('c-in', word);
    await until(() => depth(engine, 'c-done') === 3, 'three FlowFiles through the group');
    expect(queued(engine, 'c-done').map((f) => f.text)).toEqual(['ALPHA', 'BETA', 'GAMMA']);
    for (const id of ['c-in', 'g-c1', 'g-c2', 'c-out']) expect(depth(engine, id)).toBe(0);
    expect(componentStatus(engine, 'g-in').output.count).toBe(3);
    expect(componentStatus(engine, 'f').output.count).toBe(3);
    expect(engine.component('upper')?.groupId).toBe('g');

    // A connection may not reach into another group except through its ports.
    const crossing = structuredClone(doc);
    crossing.rootGroup.connections?.push(connection('sneaky', 'src', 'upper'));
    const problems = problemsOf(await rejection(engine.applyFlow(crossing)));
    expect(problems).toEqual([
      expect.objectContaining({ componentId: 'sneaky', message: expect.stringMatching(/is not in this process group/) }),
    ]);
  });

  it('resolves #{parameters}, inherited ones included; an undefined parameter is a validation error', async () => {
    const engine = await h.open('volatile', [WriteText]);
    const doc = (text: string) =>
      flow(
        {
          parameterContextId: 'child',
          inputPorts: [port('src')],
          outputPorts: [port('out')],
          processors: [processor({ id: 'w', name: 'Writer', type: 'WriteText', properties: { text }, state: 'RUNNING' })],
          connections: [connection('in', 'src', 'w'), connection('to-out', 'w', 'out', ['success'])],
        },
        {
          parameterContexts: [
            {
              id: 'base',
              name: 'Base',
              parameters: [
                { name: 'greeting', value: 'hello' },
                { name: 'who', value: 'base' },
              ],
            },
            { id: 'child', name: 'Child', inherits: ['base'], parameters: [{ name: 'who', value: 'child' }] },
          ],
        },
      );
    await engine.applyFlow(doc('#{greeting}, #{who} (${filename:toUpper()})'));
    await engine.enqueue('in', '', { filename: 'f1' });
    await until(() => depth(engine, 'to-out') === 1, 'the FlowFile to be written');
    expect(queued(engine, 'to-out')[0]?.text).toBe('hello, child (F1)');

    const problems = problemsOf(await rejection(engine.applyFlow(doc('#{greeting} #{nope}'))));
    expect(problems).toEqual([
      expect.objectContaining({
        componentId: 'w',
        property: 'text',
        message: expect.stringMatching(/references parameter "nope", which is not defined/),
      }),
    ]);
    expect(engine.component('w')?.runState).toBe('RUNNING');
  });

  it('restarts the processors that reference a parameter whose value changed, and only those', async () => {
    const scheduledWith = new Map<string, string[]>();
    const Greeter = testProcessor('Greeter', (session) => session.transfer(session.create(), 'success'), {
      input: 'forbidden',
      properties: { greeting: stringProperty('what to say', { required: true }) },
      onScheduled: (context) => {
        const list = scheduledWith.get(context.componentId) ?? [];
        list.push(context.getProperty('greeting').asString() ?? '');
        scheduledWith.set(context.componentId, list);
      },
    });
    const engine = await h.open('volatile', [Greeter]);
    const doc = (hello: string) =>
      flow(
        {
          parameterContextId: 'ctx',
          processors: [
            processor({
              id: 'uses',
              type: 'Greeter',
              properties: { greeting: '#{hello} there' },
              autoTerminate: ['success'],
              scheduling: { period: '1 hour' },
              state: 'RUNNING',
            }),
            processor({
              id: 'other',
              type: 'Greeter',
              properties: { greeting: 'plain' },
              autoTerminate: ['success'],
              scheduling: { period: '1 hour' },
              state: 'RUNNING',
            }),
          ],
        },
        { parameterContexts: [{ id: 'ctx', name: 'Context', parameters: [{ name: 'hello', value: hello }] }] },
      );
    await engine.applyFlow(doc('hi'));
    const report = await engine.applyFlow(doc('howdy'));
    expect(report.restarted).toEqual(['uses']);
    expect(Object.fromEntries(scheduledWith)).toEqual({ uses: ['hi there', 'howdy there'], other: ['plain'] });
  });

  it('re-enables a controller service whose configuration changed and restarts the processors using it', async () => {
    const serviceLog: string[] = [];
    const GreetingService = defineService({
      type: 'GreetingService',
      description: 'says a word',
      tags: ['test'],
      provides: ['greeting'],
      properties: { word: stringProperty('the word', { required: true }) },
      enable: (context) => {
        const word = context.getProperty('word').asString() ?? '';
        serviceLog.push(`enable ${word}`);
        return { word };
      },
      disable: (instance) => {
        serviceLog.push(`disable ${instance.word}`);
      },
    });
    const scheduled: string[] = [];
    const UseGreeting = testProcessor(
      'UseGreeting',
      (session, context) => {
        const ff = session.get();
        if (ff !== undefined)
          session.transfer(session.write(ff, context.getService<{ word: string }>('greeter').word), 'success');
      },
      {
        input: 'required',
        properties: { greeter: service('greeting', { description: 'who greets', required: true }) },
        onScheduled: (context) => {
          scheduled.push(context.getService<{ word: string }>('greeter').word);
        },
      },
    );
    const engine = await h.open('volatile', [UseGreeting], {});
    engine.registry.registerServices([GreetingService]);
    const doc = (word: string, state: 'ENABLED' | 'DISABLED' = 'ENABLED') =>
      flow({
        controllerServices: [{ id: 'svc', name: 'Greeter', type: 'GreetingService', properties: { word }, state }],
        inputPorts: [port('src')],
        outputPorts: [port('out')],
        processors: [processor({ id: 'p', type: 'UseGreeting', properties: { greeter: 'svc' }, state: 'RUNNING' })],
        connections: [connection('in', 'src', 'p'), connection('to-out', 'p', 'out', ['success'])],
      });
    await engine.applyFlow(doc('hello'));
    await engine.enqueue('in', '');
    await until(() => depth(engine, 'to-out') === 1, 'the first greeting');
    const report = await engine.applyFlow(doc('bonjour'));
    expect(report.restarted).toEqual(['p']);
    expect(serviceLog).toEqual(['enable hello', 'disable hello', 'enable bonjour']);
    expect(scheduled).toEqual(['hello', 'bonjour']);
    await engine.enqueue('in', '');
    await until(() => depth(engine, 'to-out') === 2, 'the second greeting');
    expect(queued(engine, 'to-out').map((f) => f.text)).toEqual(['hello', 'bonjour']);
    const problems = problemsOf(await rejection(engine.applyFlow(doc('bonjour', 'DISABLED'))));
    expect(problems).toEqual([
      expect.objectContaining({
        componentId: 'p',
        property: 'greeter',
        message: 'controller service "Greeter" is disabled; enable it first',
      }),
    ]);
  });

  it('starts and stops a group with its subgroups, reporting what could not start', async () => {
    const scheduled = new Map<string, number>();
    const engine = await h.open('volatile', [taggingSource(scheduled, new Map()), WriteText]);
    const source = (id: string) =>
      processor({ id, type: 'TagSource', autoTerminate: ['success'], scheduling: { period: '1 hour' }, state: 'STOPPED' });
    await engine.applyFlow(
      flow({
        processors: [source('root-p')],
        processGroups: [
          {
            id: 'outer',
            name: 'Outer',
            processors: [
              source('outer-p'),
              processor({ id: 'bad', name: 'Bad', type: 'WriteText', autoTerminate: ['success'], state: 'STOPPED' }),
            ],
            processGroups: [{ id: 'inner', name: 'Inner', processors: [source('inner-p')] }],
          },
        ],
      }),
    );
    const failures = await engine.startGroup('outer');
    expect(failures).toEqual([
      { id: 'bad', name: 'Bad', reason: expect.stringMatching(/"Bad" cannot start: property "text": is required/) },
    ]);
    const states = () => ['root-p', 'outer-p', 'inner-p', 'bad'].map((id) => engine.component(id)?.runState);
    expect(states()).toEqual(['STOPPED', 'RUNNING', 'RUNNING', 'STOPPED']);
    await engine.stopGroup('inner');
    expect(states()).toEqual(['STOPPED', 'RUNNING', 'STOPPED', 'STOPPED']);
    await engine.stopGroup('outer');
    expect(states()).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
    // The run states are recorded in the flow document.
    expect(engine.flow.rootGroup.processGroups[0]?.processors[0]?.state).toBe('STOPPED');
    await engine.startGroup('root');
    expect(states()).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'STOPPED']);
    expect((await rejection(engine.startGroup('missing'))).name).toBe('NotFoundError');
  });
});
