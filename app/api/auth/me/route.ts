import { route } from '../../../_lib/route.js';

export const GET = route({ role: 'viewer' }, async ({ principal }) => ({ name: principal.name, role: principal.role, via: principal.via }));
