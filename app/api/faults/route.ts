import { route } from '../../_lib/route.js';
import { db } from '../../_lib/deps.js';
import { activeFaults } from '../../_lib/queries.js';

export const dynamic = 'force-dynamic';

export const GET = route({ role: 'viewer' }, async () => ({ faults: await activeFaults(db()) }));
