/**
 * Child process for the content repository's kill -9 test: writes contents forever and prints one
 * line per content once `write` returned: `c <index> <resourceId> <offset> <length> <claimed 0|1>`.
 * The content of index i is `contentOf(i)`. The parent SIGKILLs it at a random moment.
 *
 * Usage: node --import tsx crash-child.test-helper.ts <dir>
 */
import { FileContentRepository } from './file-content-repository.ts';

export function contentOf(index: number): Buffer {
  const bytes = Buffer.alloc(100 + ((index * 37) % 3000), index % 256);
  bytes.writeUInt32BE(index, 0);
  return bytes;
}

/** Runs of 20 contents out of 80 are never claimed (as if their sessions rolled back): whole files go unreferenced. */
export const isClaimed = (index: number) => Math.floor(index / 20) % 4 !== 0;

const dir = process.argv[2];
if (dir !== undefined && process.argv[1]?.endsWith('crash-child.test-helper.ts')) {
  // Grace 0: unclaimed files are released as soon as possible, so kills land mid-archive too.
  const content = new FileContentRepository({
    directory: dir,
    durability: 'process',
    maxAppendableSize: 4096,
    releaseGraceMs: 0,
  });
  let index = 0;
  const batch = (): void => {
    let lines = '';
    for (let n = 0; n < 50; n++, index++) {
      const claim = content.write(contentOf(index));
      if (isClaimed(index)) content.claimant(claim.resourceId);
      lines += `c ${index} ${claim.resourceId} ${claim.offset} ${claim.length} ${isClaimed(index) ? 1 : 0}\n`;
    }
    // Small contents are gathered in memory until flush(), which the FlowFile repository calls
    // before its journal names them: the claims are announced only after it, as the journal would.
    // Pipes are synchronous on Linux: the parent sees these lines only after the flush returned.
    content.flush();
    process.stdout.write(lines);
    setImmediate(batch);
  };
  batch();
}
