import { notFound } from 'next/navigation';

/**
 * Any URL no console page matches: answered by (console)/not-found.tsx, so
 * the 404 keeps the sidebar (the root not-found has no layout to offer).
 */
export default function Missing() {
  notFound();
}
