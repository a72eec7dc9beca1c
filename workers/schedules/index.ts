// Public surface of workers/schedules: cron schedules of experiments or suites.
export * from './cron.js';
export * from './schema.js';
export * from './schedules.js';
export * from './fire.js';
export * from './worker.js';
export * from './starter.js';
export * from './platform.js';
