import { z } from 'zod';
import { named } from './registry.ts';

const dependsOn = z.object({ property: z.string(), values: z.array(z.string()) });

export const propertyDescriptorSchema = named(
  'PropertyDescriptor',
  z.object({
    /** The key used in `properties`. */
    name: z.string(),
    displayName: z.string(),
    description: z.string(),
    kind: z.enum([
      'string',
      'integer',
      'number',
      'boolean',
      'choice',
      'time-period',
      'data-size',
      'regex',
      'json-path',
      'service',
    ]),
    required: z.boolean(),
    default: z.string().optional(),
    allowableValues: z
      .array(z.object({ value: z.string(), displayName: z.string(), description: z.string().optional() }))
      .optional(),
    /** Sensitive values are encrypted at rest and never sent to a client. */
    sensitive: z.boolean(),
    /** Where Expression Language may be used: none, environment (once at start) or flowfile (per FlowFile). */
    expression: z.enum(['none', 'environment', 'flowfile']),
    min: z.number().optional(),
    max: z.number().optional(),
    /** For `service` properties: the service API required. */
    service: z.string().optional(),
    /** Shown (and validated) only while another property has one of these values. */
    dependsOn: dependsOn.optional(),
  }),
  'A property as the editor renders it in a form.',
);
export type PropertyDescriptorDto = z.infer<typeof propertyDescriptorSchema>;

export const relationshipDescriptorSchema = named(
  'RelationshipDescriptor',
  z.object({ name: z.string(), description: z.string(), dependsOn: dependsOn.optional() }),
);

export const dynamicPropertiesDescriptorSchema = named(
  'DynamicPropertiesDescriptor',
  z.object({
    description: z.string(),
    valueIs: z.enum(['string', 'expression', 'boolean-expression', 'json-path']).optional(),
    expression: z.enum(['none', 'environment', 'flowfile']).optional(),
    /** Each dynamic property becomes a relationship (always, or while another property has some values). */
    createsRelationship: z.union([z.boolean(), z.object({ dependsOn })]),
    sensitive: z.boolean(),
  }),
);

const attributeDoc = z.object({ name: z.string(), description: z.string() });

export const processorTypeSchema = named(
  'ProcessorType',
  z.object({
    type: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    input: z.enum(['required', 'allowed', 'forbidden']),
    properties: z.array(propertyDescriptorSchema),
    dynamicProperties: dynamicPropertiesDescriptorSchema.optional(),
    relationships: z.array(relationshipDescriptorSchema),
    readsAttributes: z.array(attributeDoc),
    writesAttributes: z.array(attributeDoc),
    defaultSchedule: z
      .object({
        strategy: z.enum(['timer', 'cron']).optional(),
        period: z.string().optional(),
        concurrentTasks: z.number().optional(),
        runDuration: z.string().optional(),
        penaltyDuration: z.string().optional(),
        yieldDuration: z.string().optional(),
      })
      .optional(),
    triggerSerially: z.boolean(),
    supportsBatching: z.boolean(),
    /** Why it needs extra permission (file system, network, code); absent when it needs none. */
    restricted: z.string().optional(),
    seeAlso: z.array(z.string()),
  }),
  'Everything the editor needs to render a processor and its configuration form.',
);
export type ProcessorTypeDto = z.infer<typeof processorTypeSchema>;

export const serviceTypeSchema = named(
  'ControllerServiceType',
  z.object({
    type: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    provides: z.array(z.string()),
    properties: z.array(propertyDescriptorSchema),
    restricted: z.string().optional(),
  }),
);
export type ServiceTypeDto = z.infer<typeof serviceTypeSchema>;

export const processorTypeListSchema = named('ProcessorTypeList', z.object({ types: z.array(processorTypeSchema) }));
export const serviceTypeListSchema = named('ControllerServiceTypeList', z.object({ types: z.array(serviceTypeSchema) }));
