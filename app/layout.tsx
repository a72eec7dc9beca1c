import type { Metadata } from 'next';
import 'uplot/dist/uPlot.min.css';
import './globals.css';

// Every page is rendered per request: the CSP nonce (proxy.ts) must be stamped on Next's inline scripts,
// which a page prerendered at build time cannot carry.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'faultline', description: 'Load tests and chaos experiments with SLO, breaker and consistency verdicts' };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
