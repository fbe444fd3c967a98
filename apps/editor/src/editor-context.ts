import type { FlowEntity, ProcessorTypeDto, ServiceTypeDto, SessionDto } from '@sluice/protocol';
import { roleAllows } from '@sluice/protocol';
import { createContext, useContext } from 'react';
import type { SnippetStore } from './snippets.ts';
import type { IdAliases, UndoStack } from './undo.ts';

/** Dialogs and panels the editor can show (one at a time, plus the lineage over provenance). */
export type DialogState =
  | { readonly kind: 'configure'; readonly id: string }
  | { readonly kind: 'connection'; readonly id: string }
  | { readonly kind: 'connect'; readonly sourceId: string; readonly destinationId: string }
  | { readonly kind: 'queue'; readonly connectionId: string }
  | { readonly kind: 'flowfile'; readonly connectionId: string; readonly uuid: string }
  | { readonly kind: 'provenance'; readonly componentId?: string }
  | { readonly kind: 'event'; readonly eventId: number }
  | { readonly kind: 'lineage'; readonly uuid: string }
  | { readonly kind: 'bulletins' }
  | { readonly kind: 'services' }
  | { readonly kind: 'parameters' }
  | { readonly kind: 'snippet'; readonly ids: readonly string[] }
  | { readonly kind: 'snippets' }
  | { readonly kind: 'label'; readonly id: string }
  | { readonly kind: 'remote'; readonly id: string }
  | { readonly kind: 'remote-new'; readonly position: { readonly x: number; readonly y: number } }
  | { readonly kind: 'history'; readonly id: string; readonly name: string }
  | { readonly kind: 'diagnostics' }
  | { readonly kind: 'service'; readonly id: string }
  | { readonly kind: 'import' };

/** Everything the canvas, toolbar and dialogs share. */
export interface EditorContextValue {
  readonly session: SessionDto;
  /** Admin: may change the flow. */
  readonly canEdit: boolean;
  /** Operator or admin: may start/stop, empty queues, replay, view content. */
  readonly canOperate: boolean;
  readonly flow: FlowEntity;
  readonly types: ReadonlyMap<string, ProcessorTypeDto>;
  readonly typeList: readonly ProcessorTypeDto[];
  readonly serviceTypes: readonly ServiceTypeDto[];
  readonly groupId: string;
  setGroupId(id: string): void;
  /** Reloads the flow (after a change; live events call it too). */
  refresh(): Promise<void>;
  /** The current revision of a component (0 when unknown). */
  revision(id: string): number;
  readonly undo: UndoStack;
  /** Undo/redo availability ("10": can undo, cannot redo), to re-render the toolbar. */
  readonly undoState: string;
  readonly aliases: IdAliases;
  /** The server's snippets (shared by every user). */
  readonly snippets: SnippetStore;
  open(dialog: DialogState): void;
  close(): void;
  /** Shows a message in the status line (errors stay until dismissed). */
  notify(message: string, kind?: 'info' | 'error'): void;
}

export const EditorContext = createContext<EditorContextValue | undefined>(undefined);

/** The editor's shared state; only inside the editor. */
export function useEditor(): EditorContextValue {
  const value = useContext(EditorContext);
  if (value === undefined) throw new Error('useEditor outside the editor');
  return value;
}

export function rolesOf(session: SessionDto): { canEdit: boolean; canOperate: boolean } {
  return { canEdit: roleAllows(session.role, 'admin'), canOperate: roleAllows(session.role, 'operator') };
}
