import { choice, defineProcessor, PropertyValueError, string } from '@sluice/api';

const BATCH = 100;

/** Logs a message built with Expression Language for each FlowFile (NiFi's LogMessage). */
export const LogMessage = defineProcessor({
  type: 'LogMessage',
  description:
    'Writes a message, evaluated with Expression Language against each FlowFile, to the log at the chosen level (WARN and ERROR also show as bulletins), then passes the FlowFile on unchanged. A message that cannot be evaluated for a FlowFile (e.g. toNumber() of text) is reported as an ERROR naming the FlowFile; the FlowFile still goes to success, since a log line must never hold data back.',
  tags: ['logging', 'debug', 'expression language'],
  input: 'required',
  properties: {
    logLevel: choice(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], {
      displayName: 'Log Level',
      description: 'Level of the log lines (WARN and ERROR also show as bulletins).',
      default: 'INFO',
      required: true,
    }),
    logPrefix: string({
      displayName: 'Log Prefix',
      description: 'Text put before the message (Expression Language per FlowFile).',
      expression: 'flowfile',
    }),
    logMessage: string({
      displayName: 'Log Message',
      description: 'The message (Expression Language per FlowFile), e.g. "received ${filename} (${fileSize} bytes)".',
      required: true,
      expression: 'flowfile',
    }),
  },
  relationships: { success: 'Every FlowFile, after logging' },
  supportsBatching: true,
  onTrigger(session, context) {
    const level = context.getProperty('logLevel').asString() ?? 'INFO';
    const prefix = context.getProperty('logPrefix');
    const message = context.getProperty('logMessage');
    const log = context.logger;
    const enabled = log.isEnabled(
      level === 'TRACE' || level === 'DEBUG' || level === 'INFO' || level === 'WARN' || level === 'ERROR' ? level : 'INFO',
    );
    for (const flowFile of session.getBatch(BATCH)) {
      if (enabled) {
        let text: string;
        try {
          text = `${prefix.evaluate(flowFile) ?? ''}${message.evaluate(flowFile) ?? ''}`;
        } catch (e) {
          if (!(e instanceof PropertyValueError)) throw e;
          log.error(`could not build the log message for FlowFile ${flowFile.uuid}: ${e.message}`);
          session.transfer(flowFile, 'success');
          continue;
        }
        if (level === 'TRACE') log.trace(text);
        else if (level === 'DEBUG') log.debug(text);
        else if (level === 'WARN') log.warn(text);
        else if (level === 'ERROR') log.error(text);
        else log.info(text);
      }
      session.transfer(flowFile, 'success');
    }
  },
});
