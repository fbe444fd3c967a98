import type {
  BulletinDto,
  ComponentStatusDto,
  ConnectionStatusDto,
  ServiceStatusDto,
  StatusDelta,
  StatusSnapshot,
} from '@sluice/protocol';
import { useSyncExternalStore } from 'react';

/**
 * Live status pushed over socket.io, kept outside React state: each node subscribes to its own entry,
 * so a delta re-renders only the components that changed (a 1,000-processor canvas stays smooth).
 */
export class StatusStore {
  private readonly components = new Map<string, ComponentStatusDto>();
  private readonly connections = new Map<string, ConnectionStatusDto>();
  private readonly services = new Map<string, ServiceStatusDto>();
  private bulletinList: readonly BulletinDto[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly bulletinsByComponent = new Map<string, number>();

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  component(id: string): ComponentStatusDto | undefined {
    return this.components.get(id);
  }

  connection(id: string): ConnectionStatusDto | undefined {
    return this.connections.get(id);
  }

  service(id: string): ServiceStatusDto | undefined {
    return this.services.get(id);
  }

  bulletins(): readonly BulletinDto[] {
    return this.bulletinList;
  }

  bulletinCount(componentId: string): number {
    return this.bulletinsByComponent.get(componentId) ?? 0;
  }

  applyFull(snapshot: StatusSnapshot): void {
    this.components.clear();
    this.connections.clear();
    this.services.clear();
    for (const c of snapshot.components) this.components.set(c.id, c);
    for (const c of snapshot.connections) this.connections.set(c.id, c);
    for (const s of snapshot.services) this.services.set(s.id, s);
    this.emit();
  }

  applyDelta(delta: StatusDelta): void {
    for (const c of delta.components) this.components.set(c.id, c);
    for (const c of delta.connections) this.connections.set(c.id, c);
    for (const s of delta.services) this.services.set(s.id, s);
    for (const id of delta.removed) {
      this.components.delete(id);
      this.connections.delete(id);
      this.services.delete(id);
    }
    this.emit();
  }

  /** Adds bulletins (newest last), keeping the last five minutes. */
  addBulletins(bulletins: readonly BulletinDto[], replace = false): void {
    const horizon = Date.now() - 5 * 60_000;
    const seen = new Set<number>();
    const merged = (replace ? bulletins : [...this.bulletinList, ...bulletins]).filter((b) => {
      if (b.time < horizon || seen.has(b.id)) return false;
      seen.add(b.id);
      return true;
    });
    this.bulletinList = merged;
    this.bulletinsByComponent.clear();
    for (const b of merged) {
      if (b.componentId !== undefined)
        this.bulletinsByComponent.set(b.componentId, (this.bulletinsByComponent.get(b.componentId) ?? 0) + 1);
    }
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/** The one store of this tab. */
export const statusStore = new StatusStore();

export function useComponentStatus(id: string): ComponentStatusDto | undefined {
  return useSyncExternalStore(statusStore.subscribe, () => statusStore.component(id));
}

export function useConnectionStatus(id: string): ConnectionStatusDto | undefined {
  return useSyncExternalStore(statusStore.subscribe, () => statusStore.connection(id));
}

export function useServiceStatus(id: string): ServiceStatusDto | undefined {
  return useSyncExternalStore(statusStore.subscribe, () => statusStore.service(id));
}

export function useBulletins(): readonly BulletinDto[] {
  return useSyncExternalStore(statusStore.subscribe, () => statusStore.bulletins());
}

export function useBulletinCount(id: string): number {
  return useSyncExternalStore(statusStore.subscribe, () => statusStore.bulletinCount(id));
}
