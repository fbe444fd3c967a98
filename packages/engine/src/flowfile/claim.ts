/**
 * Where a FlowFile's content lives: a byte range of a resource claim file in the content
 * repository. Many small contents share one resource file; a resource file is released when no
 * FlowFile references any range of it.
 */
export interface ContentClaim {
  /** Resource claim file id, unique within the content repository (e.g. "1764131212000-42"). */
  readonly resourceId: string;
  readonly offset: number;
  readonly length: number;
}

/** Whether two claims denote the same bytes. */
export function sameClaim(a: ContentClaim | null, b: ContentClaim | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.resourceId === b.resourceId && a.offset === b.offset && a.length === b.length;
}
