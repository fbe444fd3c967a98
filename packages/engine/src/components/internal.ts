import type { AnyProcessorDefinition } from '@sluice/api';

/** The one relationship ports and funnels send everything to (connections from them name none). */
export const PASS_THROUGH = '';

const BATCH = 1000;

function passThrough(type: string, description: string): AnyProcessorDefinition {
  const definition: AnyProcessorDefinition = {
    type,
    description,
    tags: ['internal'],
    input: 'allowed',
    properties: {},
    relationships: {},
    onTrigger(session) {
      const flowFiles = session.getBatch(BATCH);
      if (flowFiles.length > 0) session.transfer(flowFiles, PASS_THROUGH);
    },
  };
  return Object.freeze(definition);
}

/** Moves FlowFiles into a process group. Emits no provenance of its own (a CLONE per extra connection). */
export const InputPortDefinition = passThrough('InputPort', 'Receives FlowFiles into a process group.');
/** Moves FlowFiles out of a process group. */
export const OutputPortDefinition = passThrough('OutputPort', 'Sends FlowFiles out of a process group.');
/** Merges several connections into one (or fans one out to several, cloning). */
export const FunnelDefinition = passThrough('Funnel', 'Merges connections.');

/**
 * A root-group output port open to Site-to-Site: it holds what reaches it until a remote client
 * pulls it (the Site-to-Site server takes FlowFiles from its queue), so a trigger moves nothing.
 */
export const SiteToSiteOutputPortDefinition: AnyProcessorDefinition = Object.freeze({
  type: 'OutputPort',
  description: 'Holds FlowFiles for Site-to-Site clients to pull.',
  tags: ['internal'],
  input: 'allowed',
  properties: {},
  relationships: {},
  onTrigger(_session, context) {
    context.yield();
  },
} satisfies AnyProcessorDefinition);
