import type { ContentClaim, Engine } from '@sluice/engine';
import type { Request, Response } from 'express';
import { ApiError } from './errors.ts';

// Content shown inline only as these types; anything else is sent as text/plain or octet-stream,
// so a FlowFile holding HTML or SVG can never run script in the editor's origin.
const INLINE_SAFE = new Set([
  'text/plain',
  'text/csv',
  'application/json',
  'application/xml',
  'text/xml',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
]);

/** Parses a single `bytes=` range against a size. Returns undefined for no (or an ignorable) Range header. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined; // several ranges or another unit: send it all, as RFC 9110 allows
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return undefined;
  let start: number;
  let end: number;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Picks a safe Content-Type for content with this mime.type. */
export function safeContentType(mimeType: string | undefined, inline: boolean): string {
  const base = (mimeType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!inline) return 'application/octet-stream';
  if (INLINE_SAFE.has(base))
    return base.startsWith('text/') || base.endsWith('json') || base.endsWith('xml') ? `${base}; charset=utf-8` : base;
  if (base.startsWith('text/')) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/**
 * Streams a content claim (or the requested range of it) as the response: 200, 206 with
 * Content-Range, or 416. Never loads the content whole.
 * @throws {ApiError} 404 when the content is gone.
 */
export function sendContent(
  engine: Engine,
  req: Request,
  res: Response,
  claim: ContentClaim | null,
  options: { filename: string; mimeType: string | undefined; disposition: 'inline' | 'attachment' },
): void {
  if (claim !== null && !engine.content.isAvailable(claim))
    throw new ApiError(404, 'the content is no longer available (archive retention removed it)');
  const size = claim?.length ?? 0;
  const range = parseRange(req.get('range'), size);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  res.setHeader('Content-Type', safeContentType(options.mimeType, options.disposition === 'inline'));
  res.setHeader('Content-Disposition', contentDisposition(options.disposition, options.filename));
  if (range === 'unsatisfiable') {
    res.status(416).setHeader('Content-Range', `bytes */${size}`);
    res.end();
    return;
  }
  const start = range?.start ?? 0;
  const length = range === undefined ? size : range.end - range.start + 1;
  if (range !== undefined) {
    res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
  } else {
    res.status(200);
  }
  res.setHeader('Content-Length', String(length));
  if (claim === null || length === 0 || req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = engine.content.readStream(claim, start, length);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
