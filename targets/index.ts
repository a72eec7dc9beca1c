// The target module's public surface: the target file schema and its loader.
export * from './schema.js';
export * from './load.js';
export * from './list-target-files.js';
