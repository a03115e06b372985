/**
 * `pnpm bundle-report` (scripts/bundle-report.mjs) decides from an esbuild metafile which SDK clients a function
 * constructs (its bare-client bundle) and whether the function meets the targets of issue 16. Its I/O is not run here
 * (it needs a packaged service and takes minutes); its logic is, on fixtures shaped like esbuild's metafiles.
 */
import { describe, expect, it } from 'vitest';
import {
  analyse,
  bareEntry,
  clientClass,
  initRatio,
  type Metafile,
  missedTargets,
  packageOf,
  targets,
} from '../scripts/bundle-report-lib.mjs';

const pnpm = (name: string, version: string, file = 'dist-es/index.js') =>
  `node_modules/.pnpm/${name.replace('/', '+')}@${version}/node_modules/${name}/${file}`;

function metafile(inputs: Record<string, number>): Metafile {
  const bytes = Object.values(inputs).reduce((n, b) => n + b, 0);
  return {
    outputs: {
      'out/handler.mjs.map': { bytes: 10, inputs: {} },
      'out/handler.mjs': {
        entryPoint: 'functions/x/src/handler.ts',
        bytes,
        inputs: Object.fromEntries(Object.entries(inputs).map(([k, b]) => [k, { bytesInOutput: b }])),
      },
    },
  };
}

describe('reading the metafile', () => {
  it('names scoped and unscoped packages with their version, peer suffixes dropped', () => {
    expect(
      packageOf(
        'node_modules/.pnpm/@aws-sdk+lib-dynamodb@3.1164.0_@aws-sdk+client-dynamodb@3.1164.0/node_modules/@aws-sdk/lib-dynamodb/dist-es/x.js',
      ),
    ).toMatchObject({ name: '@aws-sdk/lib-dynamodb', version: '3.1164.0', dir: 'dist-es' });
    expect(packageOf(pnpm('zod', '4.6.7', 'v4/core/x.js'))).toMatchObject({ name: 'zod', version: '4.6.7' });
    expect(packageOf('functions/jitr-handler/src/handler.ts').name).toBe('(functions/jitr-handler)');
  });

  it('takes as constructed clients only the client packages with code in the output, not the credential chain’s', () => {
    const a = analyse(
      metafile({
        [pnpm('@aws-sdk/client-iot', '3.1164.0')]: 1000,
        [pnpm('@aws-sdk/client-ssm', '3.1164.0')]: 0, // tree-shaken away
        [pnpm('@aws-sdk/client-sts', '3.523.0')]: 500, // nested in the old default credential chain
        [pnpm('@aws-sdk/client-sso', '3.523.0')]: 500,
        [pnpm('@aws-sdk/client-sso-oidc', '3.523.0')]: 500,
        [pnpm('@aws-sdk/lib-dynamodb', '3.1164.0')]: 300,
        [pnpm('@aws-sdk/client-dynamodb', '3.1164.0')]: 700,
        'functions/x/src/handler.ts': 50,
      }),
    );
    expect(a.clients.map((c) => c.name)).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-iot',
      '@aws-sdk/lib-dynamodb',
    ]);
    expect(a.clients[1]?.root).toBe(
      'node_modules/.pnpm/@aws-sdk+client-iot@3.1164.0/node_modules/@aws-sdk/client-iot',
    );
    expect(a.bytes).toBe(3550);
  });

  it('adds up bytes per package version, largest first, and reports several versions and CommonJS builds', () => {
    const a = analyse(
      metafile({
        [pnpm('bn.js', '5.2.5', 'lib/bn.js')]: 47,
        [pnpm('bn.js', '4.12.5', 'lib/bn.js')]: 46,
        [pnpm('@smithy/core', '3.41.0', 'dist-es/a.js')]: 100,
        [pnpm('@smithy/core', '3.41.0', 'dist-es/b.js')]: 50,
        [pnpm('@aws-crypto/client-node', '5.0.2', 'dist-cjs/index.js')]: 9,
      }),
    );
    expect(a.top[0]).toEqual(['@smithy/core@3.41.0', 150]);
    expect(a.duplicates).toEqual([expect.stringMatching(/^bn\.js \{5\.2\.5: .*, 4\.12\.5: .*\}$/)]);
    expect(a.cjs).toEqual([['@aws-crypto/client-node@5.0.2', 9]]);
  });
});

describe('the bare-client entry', () => {
  it('imports each client from the folder the function’s bundle used and constructs it; the document client wraps the DynamoDB one', () => {
    const entry = bareEntry(
      [
        { name: '@aws-sdk/lib-dynamodb', root: '/r/lib-dynamodb' },
        { name: '@aws-sdk/client-dynamodb', root: '/r/client-dynamodb' },
        { name: '@aws-sdk/client-kms', root: '/r/client-kms' },
      ],
      (c) => (c.name === '@aws-sdk/client-kms' ? 'KMSClient' : 'DynamoDBClient'),
    );
    expect(entry).toContain('import { DynamoDBClient as C1 } from "/r/client-dynamodb";');
    expect(entry).toContain('import { KMSClient as C2 } from "/r/client-kms";');
    expect(entry).toContain('import { DynamoDBDocumentClient as D0 } from "/r/lib-dynamodb";');
    const lines = entry.trim().split('\n');
    const wrap = lines.findIndex((l) => l.includes('D0.from(globalThis.__bare1)'));
    const dynamo = lines.findIndex((l) => l.includes('new C1('));
    expect(dynamo).toBeGreaterThan(-1);
    expect(wrap).toBeGreaterThan(dynamo);
    // Nothing but imports and constructions.
    expect(lines.every((l) => l.startsWith('import {') || l.startsWith('globalThis.__bare'))).toBe(true);
  });

  it('is empty for a function that constructs no client, and refuses a document client without its DynamoDB client', () => {
    expect(bareEntry([], () => 'X').trim()).toBe('');
    expect(() => bareEntry([{ name: '@aws-sdk/lib-dynamodb', root: '/r' }], () => 'X')).toThrow();
  });

  it('finds the client class in a client package’s index', () => {
    expect(clientClass('export * from "./KMSClient";\nexport * from "./KMS";\n')).toBe('KMSClient');
    expect(() => clientClass('export * from "./KMS";\n')).toThrow();
  });
});

describe('the init ratio', () => {
  it('is the median of the per-round ratios, not the ratio of the medians', () => {
    // Round 2 ran while the machine was busy: both samples slow, the ratio unchanged.
    const r = initRatio([110, 440, 120], [100, 400, 100]);
    expect(r.median).toBeCloseTo(1.1);
    expect(r.p25).toBeCloseTo(1.1);
    expect(r.p75).toBeCloseTo(1.15);
  });

  it('refuses samples that are not paired', () => {
    expect(() => initRatio([1, 2], [1])).toThrow();
    expect(() => initRatio([], [])).toThrow();
  });
});

describe('the targets', () => {
  const ok = {
    key: 'jitrHandler',
    clients: 'c',
    bytes: 600_000,
    bareBytes: 450_000,
    ratio: { median: 1.15, p25: 1, p75: 1.2 },
  };

  it('holds at the limits: bare + 150 KB and 1.15x', () => {
    expect(missedTargets(ok)).toEqual([]);
  });

  it('is missed one byte over, or just over 1.15x, each reported', () => {
    expect(missedTargets({ ...ok, bytes: 600_001 })).toEqual([
      expect.stringMatching(/^bundle 600\.0 KB > bare/),
    ]);
    expect(missedTargets({ ...ok, ratio: { median: 1.151, p25: 1, p75: 1.2 } })).toEqual([
      expect.stringMatching(/^init 1\.15x bare > 1\.15x/),
    ]);
    expect(missedTargets({ ...ok, bytes: 700_000, ratio: { median: 2, p25: 2, p75: 2 } })).toHaveLength(2);
  });

  it('gives a step without clients its own ceiling (classify: 250 KB) and no ratio to an empty bundle', () => {
    const classify = {
      key: 'remediationClassify',
      clients: '(none)',
      bytes: 250_000,
      bareBytes: 0,
      ratio: { median: 9, p25: 9, p75: 9 },
    };
    expect(missedTargets(classify)).toEqual([]);
    expect(missedTargets({ ...classify, bytes: 250_001 })).toHaveLength(1);
    expect(targets.maxBytes.remediationClassify).toBe(250_000);
  });

  it('applies the bare + 150 KB rule to classify when it constructs a client', () => {
    const classify = {
      key: 'remediationClassify',
      clients: '@aws-sdk/client-dynamodb@3.1164.0',
      bytes: 400_000,
      bareBytes: 364_000,
    };
    expect(missedTargets(classify)).toEqual([]);
    expect(missedTargets({ ...classify, bytes: 514_001 })).toHaveLength(1);
  });
});
