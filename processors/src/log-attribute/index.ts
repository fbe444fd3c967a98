import { StringDecoder } from 'node:string_decoder';
import { boolean, choice, defineProcessor, integer, regex, string } from '@sluice/api';

const BATCH = 100;

/** Logs FlowFile attributes (and optionally content): the usual debugging sink (NiFi's LogAttribute). */
export const LogAttribute = defineProcessor({
  type: 'LogAttribute',
  description:
    "Writes each FlowFile's attributes, and optionally its content, to the log at the chosen level, then passes it on.",
  tags: ['attributes', 'logging', 'debug'],
  input: 'required',
  properties: {
    logLevel: choice(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], {
      displayName: 'Log Level',
      description: 'Level of the log lines (WARN and ERROR also show as bulletins).',
      default: 'INFO',
    }),
    attributesToLog: regex({
      displayName: 'Attributes to Log',
      description: 'Only attributes whose whole name matches this regular expression (all when empty).',
    }),
    logPayload: boolean({ displayName: 'Log Payload', description: 'Also log the content (as UTF-8 text).', default: 'false' }),
    maxPayloadBytes: integer({
      displayName: 'Max Payload Bytes',
      description: 'Content longer than this is cut in the log.',
      default: '4096',
      min: 0,
    }),
    logPrefix: string({ displayName: 'Log Prefix', description: 'Text put before each log line.' }),
  },
  relationships: { success: 'Every FlowFile, after logging' },
  supportsBatching: true,
  onTrigger(session, context) {
    const level = context.getProperty('logLevel').asString() ?? 'INFO';
    const filter = wholeName(context.getProperty('attributesToLog').asRegExp());
    const payload = context.getProperty('logPayload').asBoolean() === true;
    const maxBytes = context.getProperty('maxPayloadBytes').asInteger() ?? 4096;
    const prefix = context.getProperty('logPrefix').asString() ?? '';
    const log = context.logger;
    const enabled = log.isEnabled(
      level === 'TRACE' || level === 'DEBUG' || level === 'INFO' || level === 'WARN' || level === 'ERROR' ? level : 'INFO',
    );
    for (const flowFile of session.getBatch(BATCH)) {
      if (enabled) {
        const lines = [`${prefix}FlowFile ${flowFile.uuid} (${flowFile.size} bytes)`];
        for (const [k, v] of [...flowFile.attributes].sort((a, b) => a[0].localeCompare(b[0]))) {
          if (filter === undefined || filter.test(k)) lines.push(`  ${k} = ${v}`);
        }
        if (payload) {
          // The decoder holds back a character cut in half at the limit instead of printing U+FFFD.
          const shown = new StringDecoder('utf8').write(session.read(flowFile, { length: Math.min(maxBytes, flowFile.size) }));
          const rest = flowFile.size - Buffer.byteLength(shown);
          lines.push(`  payload: ${shown}${rest > 0 ? ` … (${rest} more bytes)` : ''}`);
        }
        const message = lines.join('\n');
        if (level === 'TRACE') log.trace(message);
        else if (level === 'DEBUG') log.debug(message);
        else if (level === 'WARN') log.warn(message);
        else if (level === 'ERROR') log.error(message);
        else log.info(message);
      }
      session.transfer(flowFile, 'success');
    }
  },
});

/** NiFi matches the whole attribute name (Matcher.matches), not a substring; an empty pattern means no filter. */
function wholeName(pattern: RegExp | undefined): RegExp | undefined {
  if (pattern === undefined || pattern.source === '(?:)') return undefined;
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags);
}
