import { type ClientToServerEvents, type FlowChanged, LIVE_EVENTS, type ServerToClientEvents } from '@sluice/protocol';
import { io, type Socket } from 'socket.io-client';
import { statusStore } from './status-store.ts';

/** What the editor does with live events beyond the status store. */
export interface LiveHandlers {
  onFlowChanged(change: FlowChanged): void;
  /** A snippet was saved, replaced or deleted (by anyone). */
  onSnippetsChanged(): void;
  onSessionEnded(reason: string): void;
  onConnection(connected: boolean): void;
}

/**
 * Opens the socket.io connection (same origin, session cookie) and feeds the status store. Every
 * payload is parsed with the protocol's schema; a malformed one is dropped. Returns a closer.
 */
export function connectLive(handlers: LiveHandlers): () => void {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ path: '/socket.io', withCredentials: true });
  socket.on('connect', () => handlers.onConnection(true));
  socket.on('disconnect', () => handlers.onConnection(false));
  socket.on('status:full', (payload) => {
    const parsed = LIVE_EVENTS['status:full'].safeParse(payload);
    if (parsed.success) statusStore.applyFull(parsed.data);
  });
  socket.on('status:delta', (payload) => {
    const parsed = LIVE_EVENTS['status:delta'].safeParse(payload);
    if (parsed.success) statusStore.applyDelta(parsed.data);
  });
  socket.on('bulletins', (payload) => {
    const parsed = LIVE_EVENTS.bulletins.safeParse(payload);
    if (parsed.success) statusStore.addBulletins(parsed.data.bulletins);
  });
  socket.on('flow:changed', (payload) => {
    const parsed = LIVE_EVENTS['flow:changed'].safeParse(payload);
    if (parsed.success) handlers.onFlowChanged(parsed.data);
  });
  socket.on('snippets:changed', (payload) => {
    if (LIVE_EVENTS['snippets:changed'].safeParse(payload).success) handlers.onSnippetsChanged();
  });
  socket.on('session:ended', (payload) => {
    const parsed = LIVE_EVENTS['session:ended'].safeParse(payload);
    handlers.onSessionEnded(parsed.success ? parsed.data.reason : 'ended');
  });
  return () => {
    socket.removeAllListeners();
    socket.disconnect();
  };
}
