'use client';
/** Re-render a server page's data every `everyMs` (no reload, scroll kept) while the tab is visible. */
import { useEffect } from 'react';
import { useRouter } from 'next/navigation';

export function AutoRefresh({ everyMs = 5000 }: { everyMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    const h = setInterval(() => {
      if (document.visibilityState === 'visible') router.refresh();
    }, everyMs);
    return () => clearInterval(h);
  }, [router, everyMs]);
  return null;
}
