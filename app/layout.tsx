import type { Metadata } from 'next';
import 'uplot/dist/uPlot.min.css';
import './globals.css';

export const metadata: Metadata = { title: 'faultline', description: 'Load tests and chaos experiments with SLO, breaker and consistency verdicts' };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
