import { CoreAttributes, defineProcessor, PropertyValueError, regex } from '@sluice/api';

const BATCH = 1000;

/** `scheme:identifier`, as NiFi reads alternate.identifier (a URI whose scheme is the namespace). */
const ALTERNATE_IDENTIFIER = /^([A-Za-z][A-Za-z0-9+.-]*):(.+)$/s;

/** Core attributes the delete expression never removes (uuid is protected by the session itself). */
const KEPT = new Set<string>([CoreAttributes.UUID, CoreAttributes.FILENAME, CoreAttributes.PATH]);

/** Sets and deletes attributes with Expression Language (NiFi's UpdateAttribute). */
export const UpdateAttribute = defineProcessor({
  type: 'UpdateAttribute',
  description:
    'Updates attributes: each user-added property sets the attribute of its name to its value, evaluated with Expression Language against the FlowFile (the FlowFile as it arrived, for every property). Setting alternate.identifier to a URI (namespace:id) also records an ADDINFO provenance event. A FlowFile for which a value cannot be evaluated (e.g. toNumber() of text) goes back to the queue, unchanged and penalized, with an error bulletin; the other FlowFiles are updated as usual.',
  tags: ['attributes', 'modification', 'update', 'delete', 'expression language'],
  input: 'required',
  properties: {
    deleteAttributes: regex({
      displayName: 'Delete Attributes Expression',
      description:
        'Attributes whose whole name matches this regular expression are removed (after the updates). The core attributes uuid, filename and path are kept.',
      expression: 'environment',
    }),
  },
  dynamicProperties: {
    description: 'Sets the attribute named like the property to the value (Expression Language).',
    expression: 'flowfile',
    // The session never changes a uuid; refusing the rule says so instead of silently ignoring it.
    validate: (name) => (name === CoreAttributes.UUID ? 'the uuid attribute cannot be changed' : undefined),
  },
  relationships: { success: 'Every FlowFile, updated' },
  supportsBatching: true,
  onScheduled(context) {
    const pattern = context.getProperty('deleteAttributes').asRegExp();
    // NiFi matches the whole attribute name (Matcher.matches), not a substring. An empty value
    // deletes nothing (a bare `new RegExp('')` would match, and delete, every attribute).
    return {
      deletePattern:
        pattern === undefined || pattern.source === '(?:)' ? undefined : new RegExp(`^(?:${pattern.source})$`, pattern.flags),
    };
  },
  onTrigger(session, context, scheduled) {
    const rules = context.dynamicProperties;
    const pattern = scheduled.deletePattern;
    let failed = 0;
    let firstError = '';
    for (let flowFile of session.getBatch(BATCH)) {
      if (rules.size > 0) {
        const updates = new Map<string, string>();
        try {
          // Every rule sees the FlowFile as it arrived (NiFi semantics), not earlier rules' results.
          for (const [name, value] of rules) updates.set(name, value.evaluate(flowFile) ?? '');
        } catch (e) {
          if (!(e instanceof PropertyValueError)) throw e;
          // One FlowFile whose attributes break an expression (toNumber() of "abc") must not fail the
          // whole batch: it alone goes back to its queue, unchanged and penalized.
          if (failed++ === 0) firstError = `FlowFile ${flowFile.uuid}: ${e.message}`;
          session.transfer(session.penalize(flowFile));
          continue;
        }
        flowFile = session.putAllAttributes(flowFile, updates);
        const alternate = ALTERNATE_IDENTIFIER.exec(updates.get(CoreAttributes.ALTERNATE_IDENTIFIER) ?? '');
        if (alternate?.[1] !== undefined && alternate[2] !== undefined) {
          session.provenance.associate(flowFile, alternate[1], alternate[2]);
        }
      }
      if (pattern !== undefined) {
        flowFile = session.removeAttributes(
          flowFile,
          [...flowFile.attributes.keys()].filter((k) => !KEPT.has(k) && pattern.test(k)),
        );
      }
      session.transfer(flowFile, 'success');
    }
    if (failed > 0) {
      context.logger.error(
        `could not evaluate the attributes of ${failed} FlowFile(s); they went back to the queue, penalized. First: ${firstError}`,
      );
    }
  },
});
