// Every platform table, one file per area. Add `export * from './<area>.js'`
// here when you add a schema file, then generate a migration (see db/README.md).
export * from './runs.js';
export * from './telemetry.js';
export * from './auth.js';
export * from './schedules.js';
export * from './faults.js';
export * from './safety.js';
export * from './targets.js';
