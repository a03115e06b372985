/** The structured log lines a call writes to stdout (Powertools logs one JSON object per line). */
import { vi } from 'vitest';

export type LogLine = Record<string, unknown>;

export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: LogLine[] }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  let result: T;
  try {
    result = await fn();
  } finally {
    spy.mockRestore();
  }
  const lines = chunks
    .join('')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
  return { result, lines };
}
