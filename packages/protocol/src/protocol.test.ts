import { describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  buildOpenApiDocument,
  pasteRequestSchema,
  processorUpdateSchema,
  roleAllows,
  routes,
  SENSITIVE_VALUE_SET,
  statusDeltaSchema,
} from './index.ts';

describe('roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('operator', 'admin')).toBe(false);
    expect(roleAllows('viewer', 'operator')).toBe(false);
  });
});

describe('route table', () => {
  it('has one route per method and path, each with its schemas', () => {
    const seen = new Set<string>();
    for (const [name, route] of Object.entries(routes)) {
      const key = `${route.method} ${route.path}`;
      expect(seen.has(key), `${name}: ${key} twice`).toBe(false);
      seen.add(key);
      expect(route.path.startsWith('/'), name).toBe(true);
      for (const param of route.path.matchAll(/:([A-Za-z]+)/g)) {
        expect(route.params.safeParse({}).success, `${name} declares :${param[1]}`).toBe(false);
      }
    }
  });

  it('builds an OpenAPI 3.1 document with every route and named schemas', () => {
    const document = buildOpenApiDocument(routes, '1.0.0') as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.openapi).toBe('3.1.0');
    const operations = Object.values(document.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(operations.sort()).toEqual(Object.keys(routes).sort());
    expect(document.paths[`${API_PREFIX}/processors/{id}`]?.put?.responses['409']).toBeDefined();
    expect(document.components.schemas.FlowDocument).toBeDefined();
    expect(JSON.stringify(document)).not.toContain('"$schema"');
  });
});

describe('schemas', () => {
  it('refuse prototype-polluting property names and unknown fields', () => {
    const bad = processorUpdateSchema.safeParse({ revision: 1, component: { properties: JSON.parse('{"constructor":"x"}') } });
    expect(bad.success).toBe(false);
    expect(processorUpdateSchema.safeParse({ revision: 1, component: { nmae: 'typo' } }).success).toBe(false);
    expect(
      processorUpdateSchema.safeParse({ revision: 1, component: { properties: { a: SENSITIVE_VALUE_SET, b: null } } }).success,
    ).toBe(true);
  });

  it('paste needs exactly one of componentIds and fragment', () => {
    expect(pasteRequestSchema.safeParse({}).success).toBe(false);
    expect(pasteRequestSchema.safeParse({ componentIds: ['a'] }).success).toBe(true);
    expect(pasteRequestSchema.safeParse({ componentIds: ['a'], fragment: {} }).success).toBe(false);
  });

  it('parse status deltas', () => {
    expect(statusDeltaSchema.safeParse({ time: 1, components: [], connections: [], services: [], removed: ['x'] }).success).toBe(
      true,
    );
  });
});
