import { route } from '../../_lib/route.js';
import { topology } from '../../_lib/platform.js';

export const dynamic = 'force-dynamic';

export const GET = route({ role: 'viewer' }, async () => topology());
