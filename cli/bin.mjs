#!/usr/bin/env node
// `faultline` entry (package.json bin): load TypeScript sources through tsx.
// main() is called here, not left to main.ts's own "am I the entry?" check:
// through a symlink (npx, npm link, the Dockerfile's /usr/local/bin/faultline)
// process.argv[1] is not cli/bin.mjs and the command would silently do nothing.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
await main();
