import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { FileCheckpoints, fileSource } from '../adapters/manifest-files.js';
import { type Commands, stringFlag } from '../command.js';
import { loadAdminConfig } from '../config.js';
import { InvalidInputError, UsageError } from '../errors.js';
import { importManifest, MAX_CONCURRENCY } from './import.js';
import { progressObserver } from './progress.js';

export const MANIFEST_COMMANDS: Commands = {
  'manifest import': {
    usage:
      'manifest import <file> [--format jsonl|csv] [--rejects FILE] [--checkpoint-dir DIR] [--concurrency N]   load a factory manifest into the ECU registry (N conditional writes in flight, default 25, at most 200, halved while DynamoDB throttles)',
    options: {
      format: { type: 'string' },
      rejects: { type: 'string' },
      'checkpoint-dir': { type: 'string' },
      concurrency: { type: 'string' },
    },
    async run(args, flags, io) {
      const [path, ...extra] = args;
      if (path === undefined || extra.length > 0)
        throw new UsageError('manifest import takes exactly one <file>');
      const format = stringFlag(flags, 'format');
      if (format !== undefined && format !== 'jsonl' && format !== 'csv') {
        throw new InvalidInputError('format', '--format is jsonl or csv');
      }
      const concurrencyFlag = stringFlag(flags, 'concurrency');
      const concurrency = concurrencyFlag === undefined ? undefined : Number(concurrencyFlag);
      if (
        concurrency !== undefined &&
        !(/^\d{1,3}$/.test(concurrencyFlag ?? '') && concurrency >= 1 && concurrency <= MAX_CONCURRENCY)
      ) {
        throw new InvalidInputError(
          'concurrency',
          `--concurrency is a whole number from 1 to ${MAX_CONCURRENCY}`,
        );
      }
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      const state = io.env.XDG_STATE_HOME ?? join(io.env.HOME ?? '.', '.local', 'state');
      const checkpoints = new FileCheckpoints(
        stringFlag(flags, 'checkpoint-dir') ?? join(state, 'cv-admin', 'checkpoints'),
      );
      let source: Awaited<ReturnType<typeof fileSource>>;
      try {
        source = await fileSource(path);
      } catch {
        throw new InvalidInputError('file', 'the manifest file cannot be read');
      }
      const rejectsPath = stringFlag(flags, 'rejects');
      const rejects = rejectsPath === undefined ? undefined : createWriteStream(rejectsPath, { flags: 'a' });
      try {
        return await importManifest(
          { source, format, concurrency },
          {
            ...io.deps(config),
            checkpoints,
            observer: progressObserver(io.progress ?? { isTTY: false, write: () => true }, async (row) => {
              if (rejects !== undefined && !rejects.write(`${JSON.stringify(row)}\n`))
                await once(rejects, 'drain');
            }),
          },
        );
      } finally {
        if (rejects !== undefined) await new Promise((resolve) => rejects.end(resolve));
      }
    },
  },
};
