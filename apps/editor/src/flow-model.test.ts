import type { ProcessGroup, Processor, ProcessorTypeDto } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { groupPath, parameterScope, relationshipsOf, unconnected } from './flow-model.ts';

const group = (id: string, children: ProcessGroup[] = []): ProcessGroup => ({
  id,
  name: id,
  processors: [],
  connections: [],
  inputPorts: [],
  outputPorts: [],
  funnels: [],
  labels: [],
  controllerServices: [],
  processGroups: children,
});

const routeType: ProcessorTypeDto = {
  type: 'RouteOnAttribute',
  description: '',
  tags: [],
  input: 'required',
  properties: [],
  dynamicProperties: { description: '', createsRelationship: true, sensitive: false },
  relationships: [{ name: 'unmatched', description: '' }],
  readsAttributes: [],
  writesAttributes: [],
  triggerSerially: false,
  supportsBatching: false,
  seeAlso: [],
};

const route: Processor = {
  id: 'r',
  name: 'route',
  type: 'RouteOnAttribute',
  properties: { big: '${size:gt(10)}' },
  scheduling: {
    strategy: 'timer',
    period: '0 sec',
    concurrentTasks: 1,
    runDuration: '0 ms',
    penaltyDuration: '30 sec',
    yieldDuration: '1 sec',
  },
  bulletinLevel: 'WARN',
  autoTerminate: [],
  state: 'STOPPED',
};

describe('flow model', () => {
  it('gives the breadcrumbs of a nested group', () => {
    const root = group('root', [group('a', [group('b')])]);
    expect(groupPath(root, 'b').map((g) => g.id)).toEqual(['root', 'a', 'b']);
    expect(groupPath(root, 'missing').map((g) => g.id)).toEqual(['root']);
  });

  it('adds a relationship per dynamic property when the type says so', () => {
    expect(relationshipsOf(route, routeType)).toEqual(['unmatched', 'big']);
  });

  it('lists relationships that go nowhere', () => {
    const connection = {
      id: 'c',
      source: { id: 'r' },
      destination: { id: 'x' },
      relationships: ['big'],
      backPressureObjectThreshold: 10_000,
      backPressureDataSizeThreshold: '1 GB',
      flowFileExpiration: '0 sec',
      prioritizers: [],
    };
    expect(unconnected(route, routeType, [connection])).toEqual(['unmatched']);
    expect(unconnected({ ...route, autoTerminate: ['unmatched'] }, routeType, [connection])).toEqual([]);
  });
});

describe('parameterScope', () => {
  it('holds the group context and what it inherits; none without a context', () => {
    const contexts = [
      { id: 'a', name: 'A', parameters: [{ name: 'x', value: '1', sensitive: false }], inherits: ['b'] },
      { id: 'b', name: 'B', parameters: [{ name: 'y', value: null, sensitive: true }], inherits: ['a'] },
    ];
    const withContext = { ...group('g'), parameterContextId: 'a' };
    expect(parameterScope(contexts, withContext)).toEqual({ context: 'A', names: new Set(['x', 'y']) });
    expect(parameterScope(contexts, group('h'))).toEqual({ context: undefined, names: new Set() });
  });
});
