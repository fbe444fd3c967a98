import type { FlowDocumentInput } from '@sluice/engine';

/**
 * The flow a new data directory starts with: examples/demo-flow.json with everything stopped, so a
 * newcomer sees something real and starts it when ready. A test keeps the two in step.
 */
export const DEMO_FLOW: FlowDocumentInput = {
  sluiceFlow: 1,
  name: 'Demo: generate, tag, route, write',
  rootGroup: {
    id: 'root',
    name: 'Sluice demo',
    processors: [
      {
        id: 'generate',
        name: 'Generate readings',
        type: 'GenerateFlowFile',
        position: {
          x: 0,
          y: 0,
        },
        properties: {
          customText: '{"sensor":"${sensor}","reading":${nextInt():mod(40)},"at":"${now():format("yyyy-MM-dd\'T\'HH:mm:ss")}"}',
          sensor: 'sensor-${nextInt():mod(3)}',
          mimeType: 'application/json',
        },
        scheduling: {
          period: '5 sec',
        },
        state: 'STOPPED',
      },
      {
        id: 'tag',
        name: 'Tag with site',
        type: 'UpdateAttribute',
        position: {
          x: 0,
          y: 200,
        },
        properties: {
          site: 'demo',
          filename: '${sensor}-${uuid}.json',
        },
        state: 'STOPPED',
      },
      {
        id: 'route',
        name: 'Route by sensor',
        type: 'RouteOnAttribute',
        position: {
          x: 0,
          y: 400,
        },
        properties: {
          sensor0: "${sensor:equals('sensor-0')}",
        },
        state: 'STOPPED',
      },
      {
        id: 'write',
        name: 'Write sensor-0 readings',
        type: 'PutFile',
        position: {
          x: -250,
          y: 600,
        },
        properties: {
          directory: './data/demo-output',
          conflictResolution: 'replace',
        },
        autoTerminate: ['success', 'failure'],
        state: 'STOPPED',
      },
      {
        id: 'log',
        name: 'Log the others',
        type: 'LogAttribute',
        position: {
          x: 250,
          y: 600,
        },
        properties: {
          logPayload: 'true',
        },
        autoTerminate: ['success'],
        state: 'STOPPED',
      },
    ],
    connections: [
      {
        id: 'generate-tag',
        source: {
          id: 'generate',
        },
        destination: {
          id: 'tag',
        },
        relationships: ['success'],
      },
      {
        id: 'tag-route',
        source: {
          id: 'tag',
        },
        destination: {
          id: 'route',
        },
        relationships: ['success'],
      },
      {
        id: 'route-write',
        source: {
          id: 'route',
        },
        destination: {
          id: 'write',
        },
        relationships: ['sensor0'],
      },
      {
        id: 'route-log',
        source: {
          id: 'route',
        },
        destination: {
          id: 'log',
        },
        relationships: ['unmatched'],
      },
    ],
  },
};
