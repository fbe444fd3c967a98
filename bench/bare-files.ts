import { mkdtempSync, rmSync } from 'node:fs';
import { link, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The baseline for PutFile: bare Node writing the same files the same way (a temporary name, then
 * link to the final name and unlink), in the same batches, with no engine around it.
 */
export async function bareFiles(
  size: number,
  seconds: number,
  batch: number,
): Promise<{ filesPerSecond: number; megabytesPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bare-'));
  const data = Buffer.alloc(size, 7);
  let n = 0;
  const started = performance.now();
  try {
    while (performance.now() - started < seconds * 1000) {
      await Promise.all(
        Array.from({ length: batch }, async () => {
          const i = n++;
          const temporary = join(dir, `.${i}.partial`);
          await writeFile(temporary, data, { flag: 'wx' });
          await link(temporary, join(dir, `${i}.bin`));
          await unlink(temporary);
        }),
      );
    }
    const elapsed = (performance.now() - started) / 1000;
    return { filesPerSecond: n / elapsed, megabytesPerSecond: (n * size) / elapsed / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const size = Number(process.argv[2] ?? 1024);
  bareFiles(size, Number(process.argv[3] ?? 8), size >= 1024 * 1024 ? 4 : 500).then((r) => console.log(JSON.stringify(r)));
}
