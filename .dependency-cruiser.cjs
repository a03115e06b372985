/** Dependency rules CI enforces (`pnpm deps`). */
module.exports = {
  forbidden: [
    {
      name: 'packages-never-import-functions',
      comment: 'Shared libraries under packages/ must not depend on a Lambda function.',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^functions/' },
    },
    {
      name: 'functions-never-import-each-other',
      comment: 'A function may use packages/ but never another function.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/([^/]+)/', pathNot: '^functions/$1/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Cruise from the root so a missing folder (e.g. no functions/ yet) is not an error.
    includeOnly: '^(packages|functions|demo|test|scripts)/',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(node_modules|\\.serverless|\\.esbuild|dist)/' },
    tsConfig: { fileName: 'tsconfig.base.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
