import { ConflictError, ContentNotFoundError, FlowValidationError, NotFoundError } from '@sluice/engine';
import type { ErrorBody, ErrorDetail } from '@sluice/protocol';
import type { z } from 'zod';
import { UserConflictError, UserNotFoundError } from '../security/user-store.ts';

/** HTTP statuses the API answers errors with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 416 | 429 | 500 | 503;

/** An error with its HTTP status and the details that name what is wrong. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ErrorStatus,
    message: string,
    readonly details: readonly ErrorDetail[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** 404 for an id that names nothing. */
export function notFound(what: string): ApiError {
  return new ApiError(404, `${what} does not exist`);
}

/** 400 from zod issues, each detail naming the field (prefixed with where: body, query, params). */
export function invalidInput(where: string, error: z.ZodError): ApiError {
  const details = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = details[0];
  return new ApiError(
    400,
    first === undefined ? `invalid ${where}` : `invalid ${where}: ${first.path}: ${first.message}`,
    details,
  );
}

/** 400 listing every problem the engine found with a flow change. */
export function flowRefused(error: FlowValidationError): ApiError {
  const details: ErrorDetail[] = error.problems.map((p) => ({
    path: p.path,
    message: p.message,
    ...(p.componentId === undefined ? {} : { componentId: p.componentId }),
    ...(p.componentName === undefined ? {} : { componentName: p.componentName }),
    ...(p.property === undefined ? {} : { property: p.property }),
  }));
  const count = details.length;
  return new ApiError(
    400,
    `the flow cannot be changed this way (${count} problem${count === 1 ? '' : 's'}): ${details[0]?.message ?? ''}`,
    details,
  );
}

/** Maps any thrown value to an ApiError (unknown errors become 500 without internals). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof FlowValidationError) return flowRefused(error);
  if (error instanceof NotFoundError || error instanceof UserNotFoundError) return new ApiError(404, error.message);
  if (error instanceof ConflictError || error instanceof UserConflictError) return new ApiError(409, error.message);
  if (error instanceof ContentNotFoundError) return new ApiError(404, `the content is no longer available (${error.message})`);
  return new ApiError(500, 'internal error (see the server log)');
}

/** The JSON body of an error. */
export function errorBody(error: ApiError): ErrorBody {
  return { error: error.message, details: [...error.details] };
}
