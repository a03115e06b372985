// Types of scripts/bundle-report-lib.mjs, for test/bundle-report.test.ts.
export interface Targets {
  maxInitRatio: number;
  maxBytesAboveBare: number;
  maxBytes: Record<string, number>;
}
export interface Metafile {
  outputs: Record<
    string,
    { entryPoint?: string; bytes: number; inputs: Record<string, { bytesInOutput: number }> }
  >;
}
export interface Client {
  key: string;
  name: string;
  root: string;
}
export interface Analysis {
  bytes: number;
  top: Array<[string, number]>;
  duplicates: string[];
  cjs: Array<[string, number]>;
  clients: Client[];
}
export interface Ratio {
  median: number;
  p25: number;
  p75: number;
}
export interface Row {
  key: string;
  clients: string;
  bytes: number;
  bareBytes: number;
  ratio?: Ratio;
}
export const targets: Targets;
export function kb(bytes: number): string;
export function quantile(xs: number[], q: number): number;
export function median(xs: number[]): number;
export function packageOf(input: string): { name: string; version: string; dir: string; root: string };
export function analyse(metafile: Metafile, top?: number): Analysis;
export function bareEntry(
  clients: Array<Pick<Client, 'name' | 'root'>>,
  classOf: (c: Pick<Client, 'name' | 'root'>) => string,
): string;
export function clientClass(indexJs: string): string;
export function initRatio(times: number[], bareTimes: number[]): Ratio;
export function missedTargets(row: Row, t?: Targets): string[];
