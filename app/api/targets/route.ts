import { route } from '../../_lib/route.js';
import { targetsList } from '../../_lib/targets.js';

export const dynamic = 'force-dynamic';

/** Every target file (targets/, examples/) with the experiments that name it; a file that does not validate carries its error. */
export const GET = route({ role: 'viewer' }, async () => ({ targets: await targetsList() }));
