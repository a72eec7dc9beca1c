// Process entry of one gateway instance (env: see shop/lib/runtime.ts optionsFromEnv and README).
import { runServiceProcess } from '../../lib/entry.js';

await runServiceProcess('gateway');
