/**
 * The layers of src/ (principle 8 of the architecture guide): imports run one way,
 * server -> routes -> store -> core. src/vendors.ts (the list of vendor modules) and src/index.ts
 * (the package entry) belong to the server layer. Type-only imports count: a type that points up
 * ties the layers together just as much. `npm run deps` checks it; .ci/run runs that.
 */
const SERVER = '^src/(server/|vendors\\.ts$|index\\.ts$)';
const HTTP = '^node_modules/(fastify|@fastify|light-my-request)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means some module needs one above it; move what both need down a layer (src/core).',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-imports-no-layer',
      severity: 'error',
      comment: 'src/core is the lowest layer: what every layer shares. It imports none of them.',
      from: { path: '^src/core/' },
      to: { path: `^src/(store|routes)/|${SERVER}` },
    },
    {
      name: 'store-imports-core-only',
      severity: 'error',
      comment: 'The store holds rows and runs SQL: it may use src/core, never routes or server.',
      from: { path: '^src/store/' },
      to: { path: `^src/routes/|${SERVER}` },
    },
    {
      name: 'routes-import-no-server',
      severity: 'error',
      comment: 'Vendor routes get what they need from the store and src/core; the server assembles them.',
      from: { path: '^src/routes/' },
      to: { path: SERVER },
    },
    {
      name: 'no-http-below-routes',
      severity: 'error',
      comment: 'src/core and src/store know nothing of HTTP: no Fastify there.',
      from: { path: '^src/(core|store)/' },
      to: { path: HTTP },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing would hide an edge from the rules above.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
