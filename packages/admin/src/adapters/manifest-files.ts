import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CheckpointPort, ImportCheckpoint, ManifestSource } from '../manifests/ports.js';

/** A manifest file as a {@link ManifestSource} (64 KiB reads). */
export async function fileSource(path: string): Promise<ManifestSource> {
  const { size } = await stat(path);
  return {
    name: basename(path),
    size,
    open: (start = 0) => createReadStream(path, { start, highWaterMark: 64 * 1024 }),
  };
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * {@link CheckpointPort} as one small JSON file per manifest hash in `dir` (`<sha256>.json`), replaced atomically
 * (write to a temporary file, then rename), so an interruption never leaves a half-written checkpoint.
 */
export class FileCheckpoints implements CheckpointPort {
  constructor(private readonly dir: string) {}

  private path(sha: string): string {
    if (!SHA256.test(sha)) throw new Error('not a manifest hash');
    return join(this.dir, `${sha}.json`);
  }

  async load(manifestSha256: string): Promise<ImportCheckpoint | undefined> {
    let raw: string;
    try {
      raw = await readFile(this.path(manifestSha256), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const cp = JSON.parse(raw) as ImportCheckpoint;
    const counts = [cp.lines, cp.bytes, cp.written, cp.unchanged, cp.refused];
    if (cp.manifestSha256 !== manifestSha256 || counts.some((n) => !Number.isSafeInteger(n) || n < 0)) {
      return undefined;
    }
    return cp;
  }

  async save(checkpoint: ImportCheckpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const target = this.path(checkpoint.manifestSha256);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(checkpoint));
    await rename(temporary, target);
  }

  async clear(manifestSha256: string): Promise<void> {
    await rm(this.path(manifestSha256), { force: true });
  }
}
