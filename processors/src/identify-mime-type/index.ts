import { boolean, CoreAttributes, defineProcessor } from '@sluice/api';
import { detectMimeType, SNIFF_BYTES } from './detect.ts';

const BATCH = 100;

/** Sets mime.type from the content's first bytes and the file name (NiFi's IdentifyMimeType). */
export const IdentifyMimeType = defineProcessor({
  type: 'IdentifyMimeType',
  description:
    'Identifies the MIME type of the content from its first 8 KB: magic numbers of common binary formats (PDF, PNG, JPEG, GIF, WebP, TIFF, ZIP, GZIP, BZIP2, XZ, Zstandard, 7z, TAR, Avro, Parquet, SQLite, FlowFile v3...), then the text itself (JSON, NDJSON, XML, HTML, SVG, CSV, TSV, plain text). A generic answer (plain text, or bytes of no known format) is refined by the filename extension when allowed; application/octet-stream is the fallback. Sets mime.type and mime.extension and passes every FlowFile to success.',
  tags: ['content', 'mime', 'mime.type', 'file', 'identify', 'sniff', 'magic'],
  input: 'required',
  properties: {
    useFilename: boolean({
      displayName: 'Use Filename In Detection',
      description:
        "Use the filename attribute's extension when the content alone gives a generic answer (plain text or unknown bytes), and to tell zip-based formats (.docx, .jar...) from plain zip.",
      default: 'true',
    }),
  },
  relationships: { success: 'Every FlowFile, with mime.type and mime.extension set' },
  writesAttributes: {
    'mime.type': 'The detected MIME type, e.g. application/json',
    'mime.extension': 'The usual extension of that type with its dot, e.g. .json (empty when the type has none)',
  },
  supportsBatching: true,
  onTrigger(session, context) {
    const useFilename = context.getProperty('useFilename').asBoolean() !== false;
    for (const flowFile of session.getBatch(BATCH)) {
      const length = Math.min(flowFile.size, SNIFF_BYTES);
      const head = session.read(flowFile, { length });
      const detected = detectMimeType(
        head,
        length === flowFile.size,
        useFilename ? flowFile.getAttribute(CoreAttributes.FILENAME) : undefined,
      );
      session.transfer(
        session.putAllAttributes(flowFile, { 'mime.type': detected.mimeType, 'mime.extension': detected.extension }),
        'success',
      );
    }
  },
});
