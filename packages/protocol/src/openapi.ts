import { z } from 'zod';
import { API_PREFIX, CSRF_HEADER, SESSION_COOKIE } from './common.ts';
import { apiRegistry } from './registry.ts';
import { noBody, noParams, noQuery, type RouteSpec } from './routes.ts';

type Json = Record<string, unknown>;

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schemaRef(schema: z.ZodType): Json {
  const id = apiRegistry.get(schema)?.id;
  if (id !== undefined) return ref(id);
  const inline: Json = { ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) };
  delete inline.$schema;
  return inline;
}

/** Query or path parameters from a zod object schema. */
function parameters(schema: z.ZodType, where: 'path' | 'query'): Json[] {
  if (schema === noParams || schema === noQuery) return [];
  const json: unknown = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  if (!isObject(json) || !isObject(json.properties)) return [];
  const required = Array.isArray(json.required) ? json.required : [];
  return Object.entries(json.properties).map(([name, property]) => {
    const description = isObject(property) && typeof property.description === 'string' ? property.description : undefined;
    return {
      name,
      in: where,
      required: where === 'path' || required.includes(name),
      schema: property,
      ...(description === undefined ? {} : { description }),
    };
  });
}

const errorResponse = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});

/**
 * The OpenAPI 3.1 document of a route table: paths from the routes, `components.schemas` from every
 * schema in the API registry (JSON Schema generated from the zod schemas).
 */
export function buildOpenApiDocument(routeTable: Readonly<Record<string, RouteSpec>>, version: string): Json {
  const converted: unknown = z.toJSONSchema(apiRegistry, {
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const schemas: Json = {};
  if (isObject(converted) && isObject(converted.schemas)) {
    for (const [name, schema] of Object.entries(converted.schemas).sort(([a], [b]) => a.localeCompare(b))) {
      if (!isObject(schema)) continue;
      const { $schema: _s, $id: _i, ...rest } = schema;
      schemas[name] = rest;
    }
  }
  const paths: Record<string, Json> = {};
  for (const [operationId, route] of Object.entries(routeTable)) {
    const path = `${API_PREFIX}${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
    const status = String(route.status ?? (route.response === 'empty' ? 204 : 200));
    const success: Json =
      route.response === 'empty'
        ? { description: 'Done' }
        : route.response === 'binary'
          ? {
              description: 'The content (206 with Content-Range for a Range request)',
              content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            }
          : { description: 'OK', content: { 'application/json': { schema: schemaRef(route.response) } } };
    const responses: Json = { [status]: success };
    if (route.response === 'binary') responses['206'] = { description: 'Partial content' };
    const hasParams = route.params !== noParams;
    const hasBody = route.body !== noBody;
    if (hasParams || route.query !== noQuery || hasBody)
      responses['400'] = errorResponse('Malformed input; details name the offending fields');
    if (route.role === 'public') responses['429'] = errorResponse('Too many attempts; retry after the Retry-After header');
    else {
      responses['401'] = errorResponse('Not logged in');
      responses['403'] = errorResponse(
        `Needs the ${route.role} role${route.method === 'get' ? '' : ' (or the CSRF token is missing)'}`,
      );
    }
    if (hasParams) responses['404'] = errorResponse('Unknown id');
    if (route.revisioned === true || route.method !== 'get')
      responses['409'] = errorResponse('Stale revision or a conflicting state');
    if (hasBody) responses['413'] = errorResponse('Body too large');
    const operation: Json = {
      operationId,
      tags: [route.tag],
      summary: route.summary,
      ...(route.description === undefined ? {} : { description: route.description }),
      'x-sluice-role': route.role,
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(!hasBody
        ? {}
        : { requestBody: { required: true, content: { 'application/json': { schema: schemaRef(route.body) } } } }),
      responses,
      security: route.role === 'public' ? [] : route.method === 'get' ? [{ session: [] }] : [{ session: [], csrf: [] }],
    };
    const entry = paths[path] ?? {};
    entry[route.method] = operation;
    paths[path] = entry;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice API',
      version,
      description:
        'REST API of a Sluice server. Log in with POST /api/v1/auth/login; the session is an httpOnly cookie and every POST/PUT/DELETE needs the CSRF token in the X-CSRF-Token header. Errors are { error, details[] }.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(Object.values(routeTable).map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        csrf: { type: 'apiKey', in: 'header', name: CSRF_HEADER },
      },
    },
  };
}
