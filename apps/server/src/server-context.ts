import type { Engine, ExtensionRegistry, LogEntry } from '@sluice/engine';
import type { FlowService } from './flow/flow-service.ts';
import type { LoginRateLimiter } from './security/rate-limit.ts';
import type { SessionManager } from './security/sessions.ts';
import type { UserStore } from './security/user-store.ts';
import type { Diagnostics } from './status/diagnostics.ts';
import type { StatusHistoryRecorder } from './status/status-history.ts';
import type { SnippetStore } from './store/snippet-store.ts';

/** Everything route handlers work with: built once by createServer. */
export interface ServerContext {
  readonly engine: Engine;
  readonly registry: ExtensionRegistry;
  readonly flows: FlowService;
  readonly users: UserStore;
  /** Named fragments kept for every user. */
  readonly snippets: SnippetStore;
  readonly sessions: SessionManager;
  readonly loginLimiter: LoginRateLimiter;
  readonly history: StatusHistoryRecorder;
  readonly diagnostics: Diagnostics;
  /** Whether the server speaks HTTPS (cookies get `Secure`). */
  readonly secure: boolean;
  readonly version: string;
  /** The OpenAPI document (built once). */
  readonly openApi: Record<string, unknown>;
  readonly log: (entry: Omit<LogEntry, 'time'>) => void;
}
