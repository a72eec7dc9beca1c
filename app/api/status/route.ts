import { route } from '../../_lib/route.js';
import { config, db } from '../../_lib/deps.js';
import { backendStatus } from '../../_lib/status.js';

export const dynamic = 'force-dynamic';

export const GET = route({ role: 'viewer' }, async () => ({ backends: await backendStatus(config(), db()) }));
