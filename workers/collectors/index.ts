// Collectors' public surface: metrics (scrape → compact samples), logs (supervisor stream, a target's file or Elasticsearch index → LogStore), supervisor client.
export * from './prometheus.js';
export * from './metrics.js';
export * from './logs.js';
export * from './supervisor.js';
export * from './target-logs.js';
