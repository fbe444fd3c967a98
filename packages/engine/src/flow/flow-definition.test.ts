import { describe, expect, it } from 'vitest';
import { FlowValidationError, flowJsonSchema, parseFlowDocument, parseFlowJson } from './flow-definition.ts';

describe('flow document parsing', () => {
  it('fills NiFi defaults for what a document leaves out', () => {
    const doc = parseFlowDocument({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'Root',
        processors: [{ id: 'gen', name: 'Generate', type: 'GenerateFlowFile' }],
        connections: [{ id: 'c1', source: { id: 'gen' }, destination: { id: 'gen' }, relationships: ['success'] }],
      },
    });
    const p = doc.rootGroup.processors[0];
    expect(p?.scheduling).toEqual({
      strategy: 'timer',
      period: '0 sec',
      concurrentTasks: 1,
      runDuration: '0 ms',
      penaltyDuration: '30 sec',
      yieldDuration: '1 sec',
    });
    expect(p?.state).toBe('STOPPED');
    expect(doc.rootGroup.connections[0]?.backPressureObjectThreshold).toBe(10_000);
    expect(doc.rootGroup.connections[0]?.backPressureDataSizeThreshold).toBe('1 GB');
  });

  it('names the component and the field that is wrong', () => {
    const bad = {
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'Root',
        processGroups: [
          {
            id: 'g1',
            name: 'Ingest',
            processors: [{ id: 'p1', name: 'Tag it', type: 'UpdateAttribute', properties: { color: 7 } }],
          },
        ],
      },
    };
    let error: unknown;
    try {
      parseFlowDocument(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlowValidationError);
    const problems = (error as FlowValidationError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      path: 'rootGroup.processGroups[0].processors[0].properties.color',
      componentId: 'p1',
      componentName: 'Tag it',
      property: 'color',
    });
    expect((error as Error).message).toContain('"Tag it" (p1), property "color": Invalid input: expected string');
  });

  it('rejects malformed JSON, unknown fields and wrong versions with a clear message', () => {
    expect(() => parseFlowJson('{"sluiceFlow": 1, ')).toThrow(/not valid JSON/);
    expect(() => parseFlowJson('{"sluiceFlow": 2, "rootGroup": {"id":"r","name":"r"}}')).toThrow(/sluiceFlow must be 1/);
    expect(() => parseFlowDocument({ sluiceFlow: 1, rootGroup: { id: 'r', name: 'r', procesors: [] } })).toThrow(/procesors/);
    expect(() => parseFlowDocument({ sluiceFlow: 1, rootGroup: { id: '../etc', name: 'r' } })).toThrow(/rootGroup\.id/);
  });

  it('generates a JSON Schema', () => {
    const schema = flowJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['sluiceFlow', 'rootGroup', 'parameterContexts']));
  });
});
