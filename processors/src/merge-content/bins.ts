/**
 * Bin planning for MergeContent: given the FlowFiles waiting in the input queue (in queue order),
 * decides which bins are ready to merge (or, for Defragment, to fail) right now. Pure: no session,
 * no clock of its own, so the rules can be read (and tested) on their own.
 */
import type { FlowFile } from '@sluice/api';

/** Why a bin was emitted (NiFi's merge.reason values). */
export type MergeReason =
  | 'MAX_ENTRIES_THRESHOLD_REACHED'
  | 'MAX_BYTES_THRESHOLD_REACHED'
  | 'MIN_THRESHOLDS_REACHED'
  | 'TIMEOUT'
  | 'BIN_MANAGER_FULL'
  | 'ALL_FRAGMENTS_RECEIVED';

/** A bin: FlowFiles merged together, in merge order. */
export interface Bin {
  readonly key: string;
  readonly entries: FlowFile[];
  size: number;
  /** When its oldest FlowFile was first seen waiting (ms): the bin's age counts from here. */
  created: number;
}

/** A bin to merge now. */
export interface ReadyBin {
  readonly bin: Bin;
  readonly reason: MergeReason;
}

/** FlowFiles to send to failure now (a whole Defragment bundle, or one FlowFile without fragment attributes). */
export interface FailedGroup {
  readonly entries: readonly FlowFile[];
  readonly reason: string;
}

/** What to do now, and when the next bin times out if nothing else happens. */
export interface Plan {
  readonly ready: ReadyBin[];
  readonly failed: FailedGroup[];
  /** Epoch ms at which the oldest waiting bin reaches Max Bin Age (undefined if none will). */
  readonly nextDeadline: number | undefined;
}

/** Bin-Packing settings. */
export interface PackingRules {
  readonly minEntries: number;
  readonly maxEntries: number;
  readonly minBytes: number;
  readonly maxBytes: number | undefined;
  readonly maxBinAgeMs: number | undefined;
  readonly maxBins: number;
}

function newBin(key: string, created: number): Bin {
  return { key, entries: [], size: 0, created };
}

function oldest(open: ReadonlyMap<string, Bin>): Bin | undefined {
  let found: Bin | undefined;
  for (const bin of open.values()) if (found === undefined || bin.created < found.created) found = bin;
  return found;
}

/**
 * NiFi's bin packing over everything waiting: FlowFiles join their group's bin (by correlation
 * value) while it has room (Maximum Number of Entries, Maximum Group Size; a FlowFile larger than the
 * maximum gets a bin of its own). A bin is merged when it is full; when Maximum number of Bins is
 * reached and another is needed, the oldest is merged as it is. Since all waiting input has been
 * binned, a bin that meets both minimums is merged too (NiFi merges such bins whenever no more input
 * is available), and so is a bin older than Max Bin Age.
 */
export function planBinPacking(
  waiting: readonly FlowFile[],
  rules: PackingRules,
  groupOf: (flowFile: FlowFile) => string,
  seenAt: (flowFile: FlowFile) => number,
  now: number,
): Plan {
  const open = new Map<string, Bin>();
  const ready: ReadyBin[] = [];
  const full = (bin: Bin): MergeReason | undefined => {
    if (bin.entries.length >= rules.maxEntries) return 'MAX_ENTRIES_THRESHOLD_REACHED';
    if (rules.maxBytes !== undefined && bin.size >= rules.maxBytes) return 'MAX_BYTES_THRESHOLD_REACHED';
    return undefined;
  };
  for (const flowFile of waiting) {
    const key = groupOf(flowFile);
    const seen = seenAt(flowFile);
    let bin = open.get(key);
    if (
      bin !== undefined &&
      rules.maxBytes !== undefined &&
      bin.entries.length > 0 &&
      bin.size + flowFile.size > rules.maxBytes
    ) {
      // No room for this one: the bin is as full as it will get.
      ready.push({ bin, reason: 'MAX_BYTES_THRESHOLD_REACHED' });
      open.delete(key);
      bin = undefined;
    }
    if (bin === undefined) {
      if (open.size >= rules.maxBins) {
        const evicted = oldest(open);
        if (evicted !== undefined) {
          ready.push({ bin: evicted, reason: 'BIN_MANAGER_FULL' });
          open.delete(evicted.key);
        }
      }
      bin = newBin(key, seen);
      open.set(key, bin);
    }
    bin.entries.push(flowFile);
    bin.size += flowFile.size;
    if (seen < bin.created) bin.created = seen;
    const reason = full(bin);
    if (reason !== undefined) {
      ready.push({ bin, reason });
      open.delete(key);
    }
  }
  let nextDeadline: number | undefined;
  for (const bin of open.values()) {
    if (bin.entries.length >= rules.minEntries && bin.size >= rules.minBytes) {
      ready.push({ bin, reason: 'MIN_THRESHOLDS_REACHED' });
    } else if (rules.maxBinAgeMs !== undefined) {
      const deadline = bin.created + rules.maxBinAgeMs;
      if (now >= deadline) ready.push({ bin, reason: 'TIMEOUT' });
      else nextDeadline = nextDeadline === undefined ? deadline : Math.min(nextDeadline, deadline);
    }
  }
  return { ready, failed: [], nextDeadline };
}

/** Defragment settings. */
export interface DefragmentRules {
  readonly maxBinAgeMs: number | undefined;
  readonly maxBins: number;
}

interface Bundle extends Bin {
  readonly count: number;
  readonly indexes: Map<number, FlowFile>;
}

/**
 * Defragment: FlowFiles with the same fragment.identifier are one bundle, merged in fragment.index
 * order once fragment.count of them (distinct indexes) are waiting. Bundles that disagree on
 * fragment.count or repeat an index fail at once; a bundle still incomplete after Max Bin Age fails,
 * as does the oldest one when Maximum number of Bins is reached and another is needed. FlowFiles
 * without valid fragment attributes fail on their own.
 */
export function planDefragment(
  waiting: readonly FlowFile[],
  rules: DefragmentRules,
  seenAt: (flowFile: FlowFile) => number,
  now: number,
): Plan {
  const open = new Map<string, Bundle>();
  const ready: ReadyBin[] = [];
  const failed: FailedGroup[] = [];
  for (const flowFile of waiting) {
    const identifier = flowFile.getAttribute('fragment.identifier');
    const index = wholeNumber(flowFile.getAttribute('fragment.index'));
    const count = wholeNumber(flowFile.getAttribute('fragment.count'));
    if (identifier === undefined || identifier === '') {
      failed.push({ entries: [flowFile], reason: 'Defragment needs the fragment.identifier attribute, which is missing' });
      continue;
    }
    if (index === undefined || count === undefined || count < 1) {
      failed.push({
        entries: [flowFile],
        reason: `fragment.index (${JSON.stringify(flowFile.getAttribute('fragment.index') ?? null)}) and fragment.count (${JSON.stringify(flowFile.getAttribute('fragment.count') ?? null)}) must be whole numbers, the count at least 1`,
      });
      continue;
    }
    let bundle = open.get(identifier);
    if (bundle === undefined) {
      if (open.size >= rules.maxBins) {
        const evicted = oldest(open);
        if (evicted !== undefined) {
          open.delete(evicted.key);
          failed.push({
            entries: evicted.entries,
            reason: `bundle ${evicted.key} had ${evicted.entries.length} of its fragments when Maximum number of Bins (${rules.maxBins}) was reached and another bundle needed a bin; raise Maximum number of Bins`,
          });
        }
      }
      bundle = { ...newBin(identifier, seenAt(flowFile)), count, indexes: new Map() };
      open.set(identifier, bundle);
    }
    bundle.entries.push(flowFile);
    bundle.size += flowFile.size;
    bundle.created = Math.min(bundle.created, seenAt(flowFile));
    let problem: string | undefined;
    if (count !== bundle.count) problem = `fragments disagree on fragment.count (${bundle.count} and ${count})`;
    else if (bundle.indexes.has(index)) problem = `fragment.index ${index} appears more than once`;
    if (problem !== undefined) {
      open.delete(identifier);
      failed.push({ entries: bundle.entries, reason: `bundle ${identifier}: ${problem}` });
      continue;
    }
    bundle.indexes.set(index, flowFile);
    if (bundle.indexes.size === bundle.count) {
      open.delete(identifier);
      const ordered = [...bundle.indexes.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
      ready.push({
        bin: { key: identifier, entries: ordered, size: bundle.size, created: bundle.created },
        reason: 'ALL_FRAGMENTS_RECEIVED',
      });
    }
  }
  let nextDeadline: number | undefined;
  for (const bundle of open.values()) {
    if (rules.maxBinAgeMs === undefined) continue;
    const deadline = bundle.created + rules.maxBinAgeMs;
    if (now >= deadline) {
      failed.push({
        entries: bundle.entries,
        reason: `bundle ${bundle.key}: only ${bundle.entries.length} of ${bundle.count} fragments arrived within Max Bin Age`,
      });
    } else nextDeadline = nextDeadline === undefined ? deadline : Math.min(nextDeadline, deadline);
  }
  return { ready, failed, nextDeadline };
}

function wholeNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
