/**
 * The engine's root-group ports as Site-to-Site port backends: remote clients push into input
 * ports and pull from output ports through sessions on the port, so a transfer is one engine
 * transaction that commits only when the client confirms.
 */
import type { FlowFile } from '@sluice/api';
import type { Engine, SiteToSitePortView } from '@sluice/engine';
import type {
  InputPortBackend,
  OutgoingBatch,
  OutputPortBackend,
  ReceivedDataPacket,
  SiteToSitePorts,
  StagedReceive,
  TakeLimits,
  TransferContext,
} from '@sluice/site-to-site';
import { reportReceived, Stager, takePackets, UuidGuard } from './packets.ts';

/** The relationship ports route everything to (the engine's pass-through). */
const PASS_THROUGH = '';

function details(context: TransferContext): string {
  return `Remote Host=${context.remoteHost}${context.identity === undefined ? '' : `, Remote DN=${context.identity}`}`;
}

abstract class EnginePort {
  readonly id: string;
  readonly name: string;
  readonly comments?: string;
  readonly allowedIdentities: ReadonlySet<string> | 'any';
  protected readonly engine: Engine;

  constructor(engine: Engine, view: SiteToSitePortView) {
    this.engine = engine;
    this.id = view.id;
    this.name = view.name;
    if (view.comments !== undefined) this.comments = view.comments;
    this.allowedIdentities = view.allowedIdentities.includes('*') ? 'any' : new Set(view.allowedIdentities);
  }

  protected get node() {
    return this.engine.component(this.id);
  }

  isRunning(): boolean {
    const node = this.node;
    return node !== undefined && node.runState === 'RUNNING' && node.validationErrors.length === 0;
  }
}

class EngineInputPort extends EnginePort implements InputPortBackend {
  readonly #guard: UuidGuard;

  constructor(engine: Engine, view: SiteToSitePortView, guard: UuidGuard) {
    super(engine, view);
    this.#guard = guard;
  }

  override isRunning(): boolean {
    // Data received by a port that goes nowhere would be dropped: NiFi calls such a port invalid.
    return super.isRunning() && (this.node?.allOutgoing.length ?? 0) > 0;
  }

  canReceive(): boolean {
    return this.node?.isBackPressured() === false;
  }

  async receive(packets: AsyncIterable<ReceivedDataPacket>, context: TransferContext): Promise<StagedReceive> {
    const session = this.engine.openPortSession(this.id);
    const text = details(context);
    const stager = new Stager(session, PASS_THROUGH, this.#guard);
    const staged = stager.staged;
    try {
      for await (const packet of packets) {
        const pending = stager.add(packet);
        if (pending !== undefined) await pending;
      }
      stager.flush();
      for (const one of staged) reportReceived(session, one, context.transitUri, text);
    } catch (error) {
      session.rollback();
      throw error;
    }
    return {
      commit: async () => {
        await session.commit();
        this.#guard.remember(staged);
      },
      discard: async () => session.rollback(),
    };
  }
}

class EngineOutputPort extends EnginePort implements OutputPortBackend {
  async take(limits: TakeLimits, context: TransferContext): Promise<OutgoingBatch | undefined> {
    const session = this.engine.openPortSession(this.id);
    const taken: FlowFile[] = [];
    const packets = takePackets(session, limits, taken);
    // Peek, so that an empty queue answers "no data" without opening a stream.
    const first = packets.next();
    if (first.done === true) {
      session.rollback();
      return undefined;
    }
    const all = async function* () {
      yield first.value;
      yield* packets;
    };
    return {
      packets: all(),
      commit: async () => {
        const text = details(context);
        for (const flowFile of taken) session.provenance.send(flowFile, context.transitUri, { details: text });
        session.remove(taken);
        await session.commit();
      },
      rollback: async () => session.rollback(),
    };
  }
}

/** The engine's Site-to-Site ports, looked up afresh on every request (the flow may change). */
export function engineSiteToSitePorts(engine: Engine): SiteToSitePorts {
  const views = (direction: 'input' | 'output') => engine.siteToSitePorts().filter((p) => p.direction === direction);
  const guard = new UuidGuard((componentId) => engine.component(componentId) !== undefined);
  return {
    inputPorts: () => views('input').map((view) => new EngineInputPort(engine, view, guard)),
    outputPorts: () => views('output').map((view) => new EngineOutputPort(engine, view)),
  };
}
