/** Event fixtures shared by the provenance tests and their child processes (no vitest import here). */
import { attributesToJson } from '../flowfile/flowfile-record.ts';
import type { ProvenanceEventInput, ProvenanceEventType } from './index.ts';

export const T0 = Date.UTC(2025, 0, 1);

/** A realistic event with defaults; `attrs` become the attribute JSON. */
export function event(
  type: ProvenanceEventType,
  uuid: string,
  more: Partial<Omit<ProvenanceEventInput, 'eventType' | 'flowFileUuid'>> & { attrs?: Record<string, string> } = {},
): ProvenanceEventInput {
  const { attrs, ...rest } = more;
  return {
    eventType: type,
    eventTime: T0,
    flowFileUuid: uuid,
    fileSize: 100,
    lineageStartDate: T0,
    flowFileEntryDate: T0,
    componentId: 'comp-a',
    componentType: 'UpdateAttribute',
    attributesJson: attributesToJson(new Map(Object.entries(attrs ?? { filename: `${uuid}.txt`, path: './' }))),
    ...rest,
  };
}
