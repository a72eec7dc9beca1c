#!/usr/bin/env node
// `faultline` entry (package.json bin): load TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
