// Public surface of experiments/: the experiment and suite schemas, and their loaders.
export * from './schema.js';
export * from './load.js';
export * from './nemesis.js';
export * from './target-file.js';
