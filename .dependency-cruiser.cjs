/**
 * The layer rules of DESIGN.md, checked by `npm test` (scripts/house.test.ts).
 *
 *   app/ cli/                 on top: may import anything below
 *     │
 *   workers/ ── dashboards/   runner, collectors, analysis, reports
 *     │
 *   experiments/              the experiment file (schema, loading, planning)
 *     │
 *   targets/                  the target file: what a system under test offers
 *     │
 *   chaos/   loadtests/       faults and load never meet outside workers/
 *     │
 *   core/   db/               leaves: import nothing of ours
 *
 *   shop/  examples/          the systems under test: import nothing of the platform
 *
 * Tests may in addition start a system under test (shop/) and use db/testing,
 * but never reach up into cli/ or app/ from below (that made folder cycles).
 */
const PLATFORM = '(app|cli|core|db|chaos|loadtests|experiments|targets|workers|dashboards|bench|e2e|scripts)';
const TEST = '(\\.test\\.tsx?$|/test/|/testing\\.ts$|^e2e/|^bench/)';

/** A folder may import only the listed folders (and itself). */
function only(from, allowed, { tests = false, also = [] } = {}) {
  return {
    name: `${from}-imports-only-${allowed.join('-') || 'itself'}`,
    comment: `${from}/ may import ${allowed.length ? allowed.map((a) => `${a}/`).join(', ') : 'nothing of ours'} (DESIGN.md layering)`,
    severity: 'error',
    from: { path: `^${from}/`, ...(tests ? {} : { pathNot: TEST }) },
    to: {
      path: `^${PLATFORM}/`,
      pathNot: [`^${from}/`, ...allowed.map((a) => `^${a}/`), ...also],
    },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make modules impossible to load or test alone',
      severity: 'error',
      from: { path: `^${PLATFORM}/|^shop/` },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'shop-knows-nothing-of-its-tester',
      comment: 'the system under test imports nothing of the platform (its tests may judge it with the platform)',
      severity: 'error',
      from: { path: '^(shop|examples)/', pathNot: TEST },
      to: { path: `^${PLATFORM}/` },
    },
    only('core', []),
    only('db', []),
    // the supervisor's client lives beside its server (as Toxiproxy ships client/)
    only('chaos', ['core', 'db'], { also: ['^shop/supervisor/client\\.ts$'] }),
    only('loadtests', ['core', 'db']),
    only('targets', ['core']),
    only('experiments', ['core', 'chaos', 'loadtests', 'targets']),
    only('workers', ['core', 'db', 'chaos', 'loadtests', 'experiments', 'targets', 'shop']),
    only('dashboards', ['core', 'db', 'experiments', 'workers', 'shop']),
    {
      name: 'tests-do-not-reach-up',
      comment: 'a test below app/ and cli/ imports neither (folder cycles)',
      severity: 'error',
      from: { path: '^(core|db|chaos|loadtests|experiments|targets|workers|dashboards|shop)/' },
      to: { path: '^(app|cli)/' },
    },
    {
      name: 'import-the-index',
      comment: "other folders import a module's index.ts, not its insides (core/ and db/ are collections of leaf modules)",
      severity: 'error',
      from: { path: '^(app|cli|chaos|loadtests|experiments|targets|workers|dashboards)/', pathNot: TEST },
      to: { path: '^(chaos|loadtests|experiments|targets|workers/[^/]+)/', pathNot: ['^$1/', '/index\\.ts$'] },
    },
    {
      name: 'workers-never-import-the-console',
      severity: 'error',
      from: { path: '^workers/' },
      to: { path: '^(app|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.next|\\.faultline|loadtests/k6)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
