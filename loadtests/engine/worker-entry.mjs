// Worker-thread entry of the built-in engine: load the TypeScript sources
// through tsx (a worker starts without the parent's loaders), then run.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
