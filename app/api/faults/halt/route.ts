import { route } from '../../../_lib/route.js';
import { haltEverything } from '../../../_lib/platform.js';

/** Operators only: remove every fault everywhere (proxy reset, instances resumed, HTTP faults deleted). */
export const POST = route({ role: 'operator' }, async () => haltEverything());
