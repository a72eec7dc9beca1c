import { route } from '../../_lib/route.js';
import { overview } from '../../_lib/overview.js';

export const dynamic = 'force-dynamic';

export const GET = route({ role: 'viewer' }, async () => overview());
