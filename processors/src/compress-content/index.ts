import type { Readable, Transform } from 'node:stream';
import {
  constants,
  createBrotliCompress,
  createBrotliDecompress,
  createDeflate,
  createGunzip,
  createGzip,
  createInflate,
} from 'node:zlib';
import {
  boolean,
  CoreAttributes,
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  formatDataSize,
  integer,
  number,
  type ProcessSession,
} from '@sluice/api';

const BATCH = 20;
/** Output below this is never refused for its ratio: tiny inputs legitimately expand a lot. */
const RATIO_GRACE_BYTES = 1024 * 1024;

type Format = 'gzip' | 'deflate' | 'brotli';

interface FormatInfo {
  readonly mimeType: string;
  /** Extension added on compression and removed on decompression when filenames are updated. */
  readonly extension: string;
  readonly maxLevel: number;
}

const FORMATS: Readonly<Record<Format, FormatInfo>> = {
  gzip: { mimeType: 'application/gzip', extension: '.gz', maxLevel: 9 },
  deflate: { mimeType: 'application/deflate', extension: '.deflate', maxLevel: 9 },
  brotli: { mimeType: 'application/x-brotli', extension: '.br', maxLevel: 11 },
};

/** mime.type values that name a supported format (for "use mime.type attribute"). */
const BY_MIME_TYPE: ReadonlyMap<string, Format> = new Map([
  ['application/gzip', 'gzip'],
  ['application/x-gzip', 'gzip'],
  ['application/deflate', 'deflate'],
  ['application/x-deflate', 'deflate'],
  ['application/zlib', 'deflate'],
  ['application/x-brotli', 'brotli'],
  ['application/brotli', 'brotli'],
  ['application/br', 'brotli'],
]);

/** Extensions removed from filenames on decompression, beyond each format's own. */
const EXTRA_EXTENSIONS: Readonly<Record<Format, readonly string[]>> = {
  gzip: ['.gzip'],
  deflate: ['.zlib'],
  brotli: [],
};

/** Thrown inside the decompression stream when a limit is hit; the FlowFile goes to failure untouched. */
class LimitExceeded extends Error {
  override readonly name = 'LimitExceeded';
}

/** Compresses or decompresses content with gzip, deflate (zlib) or brotli (NiFi's CompressContent). */
export const CompressContent = defineProcessor({
  type: 'CompressContent',
  description:
    'Compresses or decompresses the content with gzip, deflate (zlib format) or brotli. The work is streamed through node:zlib, whose compression runs on the libuv thread pool, not on the event loop. Decompression is guarded against decompression bombs: output larger than Maximum Decompressed Size, or more than Maximum Compression Ratio times the compressed size, stops the work and sends the FlowFile, unchanged, to failure. With "use mime.type attribute", a FlowFile without mime.type goes to failure and one whose mime.type names no supported format passes to success unchanged (as NiFi).',
  tags: ['content', 'compress', 'decompress', 'gzip', 'deflate', 'zlib', 'brotli'],
  input: 'required',
  properties: {
    mode: choice(
      [
        { value: 'compress', displayName: 'compress' },
        { value: 'decompress', displayName: 'decompress' },
      ],
      { displayName: 'Mode', description: 'Whether to compress or decompress.', default: 'compress', required: true },
    ),
    format: choice(
      [
        {
          value: 'use mime.type attribute',
          displayName: 'use mime.type attribute',
          description: 'Decompress according to the mime.type attribute (decompress mode only).',
        },
        { value: 'gzip', displayName: 'gzip' },
        { value: 'deflate', displayName: 'deflate', description: 'DEFLATE in the zlib wrapper (RFC 1950), as NiFi.' },
        { value: 'brotli', displayName: 'brotli' },
      ],
      {
        displayName: 'Compression Format',
        description: 'The compression format.',
        default: 'use mime.type attribute',
        required: true,
      },
    ),
    level: integer({
      displayName: 'Compression Level',
      description: '0 (fastest) to 9 (smallest); brotli accepts up to 11.',
      default: '1',
      min: 0,
      max: 11,
      required: true,
      dependsOn: { property: 'mode', values: ['compress'] },
    }),
    updateFilename: boolean({
      displayName: 'Update Filename',
      description:
        "On compression, add the format's extension (.gz, .deflate, .br) to the filename; on decompression, remove it when present.",
      default: 'false',
    }),
    maxDecompressedSize: dataSize({
      displayName: 'Maximum Decompressed Size',
      description: 'Decompressed content larger than this is refused: the FlowFile goes to failure, unchanged.',
      default: '1 GB',
      min: 1,
      required: true,
      dependsOn: { property: 'mode', values: ['decompress'] },
    }),
    maxRatio: number({
      displayName: 'Maximum Compression Ratio',
      description: `Decompressed content more than this many times the compressed size is refused (a decompression bomb); output up to ${formatDataSize(RATIO_GRACE_BYTES)} is always allowed. 0 disables the check.`,
      default: '100',
      min: 0,
      required: true,
      dependsOn: { property: 'mode', values: ['decompress'] },
    }),
  },
  relationships: {
    success: 'FlowFiles compressed or decompressed (or passed unchanged when mime.type names no supported format)',
    failure: 'FlowFiles that could not be processed (corrupt data, a limit exceeded); unchanged, with compress.failure.reason',
  },
  readsAttributes: { 'mime.type': 'With "use mime.type attribute": which format to decompress' },
  writesAttributes: {
    'mime.type': "Set to the format's type after compression; removed after decompression",
    filename: 'Extension added or removed when Update Filename is true',
    'compress.failure.reason': 'Why the FlowFile went to failure',
  },
  supportsBatching: true,
  validate(context) {
    const mode = context.getProperty('mode').raw ?? 'compress';
    const format = context.getProperty('format').raw ?? 'use mime.type attribute';
    const problems: string[] = [];
    if (mode === 'compress' && format === 'use mime.type attribute') {
      problems.push('Compression Format "use mime.type attribute" only works for decompression; choose gzip, deflate or brotli');
    }
    const level = Number(context.getProperty('level').raw ?? '1');
    if (mode === 'compress' && (format === 'gzip' || format === 'deflate') && level > 9) {
      problems.push(`Compression Level ${level} is above the maximum of 9 for ${format} (only brotli goes to 11)`);
    }
    return problems;
  },
  async onTrigger(session, context) {
    const compress = context.getProperty('mode').asString() === 'compress';
    const configured = context.getProperty('format').asString() ?? 'use mime.type attribute';
    const level = context.getProperty('level').asInteger() ?? 1;
    const updateFilename = context.getProperty('updateFilename').asBoolean() === true;
    const maxSize = context.getProperty('maxDecompressedSize').asDataSize() ?? 1024 ** 3;
    const maxRatio = context.getProperty('maxRatio').asNumber() ?? 100;
    for (let flowFile of session.getBatch(BATCH)) {
      let format: Format;
      if (isFormat(configured)) {
        format = configured;
      } else {
        const mimeType = flowFile.getAttribute(CoreAttributes.MIME_TYPE);
        if (mimeType === undefined) {
          fail(session, flowFile, 'Compression Format is "use mime.type attribute" but the FlowFile has no mime.type');
          continue;
        }
        const found = BY_MIME_TYPE.get(mimeType.split(';')[0]?.trim().toLowerCase() ?? '');
        if (found === undefined) {
          context.logger.debug(`FlowFile ${flowFile.uuid} has mime.type ${mimeType}, no supported format: passed unchanged`);
          session.transfer(flowFile, 'success');
          continue;
        }
        format = found;
      }
      // Output limits only matter for decompression; compression output is bounded by its input.
      const limit = compress
        ? undefined
        : Math.min(maxSize, maxRatio > 0 ? Math.max(RATIO_GRACE_BYTES, Math.ceil(maxRatio * flowFile.size)) : maxSize);
      const compressedSize = flowFile.size;
      const started = performance.now();
      try {
        const transform = compress ? compressor(format, level) : decompressor(format);
        flowFile = await session.writeStream(
          flowFile,
          transformed(session.readStream(flowFile), transform, limit, () => limitReason(compressedSize, limit, maxSize)),
        );
      } catch (e) {
        const reason =
          e instanceof LimitExceeded
            ? e.message
            : `could not ${compress ? 'compress' : `decompress the ${format} data`}: ${e instanceof Error ? e.message : String(e)}`;
        context.logger.warn(`FlowFile ${flowFile.uuid}: ${reason}`);
        fail(session, flowFile, reason);
        continue;
      }
      const info = FORMATS[format];
      const attributes = new Map<string, string>();
      const filename = flowFile.getAttribute(CoreAttributes.FILENAME);
      if (compress) attributes.set(CoreAttributes.MIME_TYPE, info.mimeType);
      if (updateFilename && filename !== undefined) {
        if (compress) attributes.set(CoreAttributes.FILENAME, `${filename}${info.extension}`);
        else {
          const lower = filename.toLowerCase();
          const ext = [info.extension, ...EXTRA_EXTENSIONS[format]].find((x) => lower.endsWith(x) && lower.length > x.length);
          if (ext !== undefined) attributes.set(CoreAttributes.FILENAME, filename.slice(0, -ext.length));
        }
      }
      if (attributes.size > 0) flowFile = session.putAllAttributes(flowFile, attributes);
      if (!compress) flowFile = session.removeAttributes(flowFile, [CoreAttributes.MIME_TYPE]);
      session.provenance.modifyContent(
        flowFile,
        `${compress ? 'compressed' : 'decompressed'} with ${format} in ${Math.round(performance.now() - started)} ms`,
      );
      session.transfer(flowFile, 'success');
    }
  },
});

function isFormat(value: string): value is Format {
  return value === 'gzip' || value === 'deflate' || value === 'brotli';
}

function fail(session: ProcessSession, flowFile: FlowFile, reason: string): void {
  session.transfer(session.putAttribute(flowFile, 'compress.failure.reason', reason), 'failure');
}

function limitReason(compressedSize: number, limit: number | undefined, maxSize: number): string {
  if (limit === undefined || limit >= maxSize) {
    return `the decompressed content is larger than Maximum Decompressed Size (${formatDataSize(maxSize)}); the FlowFile was left unchanged`;
  }
  return `the decompressed content exceeds ${formatDataSize(limit)}, more than Maximum Compression Ratio times the ${formatDataSize(compressedSize)} compressed (a possible decompression bomb); the FlowFile was left unchanged. Raise Maximum Compression Ratio if this data is legitimate`;
}

function compressor(format: Format, level: number): Transform {
  switch (format) {
    case 'gzip':
      return createGzip({ level: Math.min(level, 9) });
    case 'deflate':
      return createDeflate({ level: Math.min(level, 9) });
    case 'brotli':
      return createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: level } });
  }
}

function decompressor(format: Format): Transform {
  switch (format) {
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'brotli':
      return createBrotliDecompress();
  }
}

/**
 * The source piped through a zlib transform, counting output: past `limit` bytes it throws (the
 * content repository then discards what was written, so nothing half-written survives).
 */
async function* transformed(
  source: Readable,
  transform: Transform,
  limit: number | undefined,
  reason: () => string,
): AsyncGenerator<Uint8Array> {
  // pipe() does not forward errors: a content read error must end the transform too.
  source.on('error', (e) => transform.destroy(e));
  source.pipe(transform);
  let total = 0;
  try {
    for await (const chunk of transform) {
      if (!(chunk instanceof Uint8Array)) throw new Error('the zlib stream produced a non-binary chunk');
      total += chunk.length;
      if (limit !== undefined && total > limit) throw new LimitExceeded(reason());
      yield chunk;
    }
  } finally {
    source.destroy();
    transform.destroy();
  }
}
