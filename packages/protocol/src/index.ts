/**
 * @sluice/protocol: the wire format between a Sluice server and its clients (the editor, scripts):
 * the REST routes with their zod schemas, the DTOs, the socket.io events, and the OpenAPI document
 * generated from them. Depends on nothing of Sluice's.
 */
export * from './auth.ts';
export * from './common.ts';
export * from './components.ts';
export * from './data.ts';
export * from './extensions.ts';
export * from './flow.ts';
export * from './flow-io.ts';
export * from './live.ts';
export { buildOpenApiDocument } from './openapi.ts';
export { apiRegistry } from './registry.ts';
export * from './routes.ts';
export * from './runtime.ts';
export * from './snippets.ts';
