'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';

const ITEMS = [
  { href: '/', label: 'Overview' },
  { href: '/experiments', label: 'Experiments' },
  { href: '/targets', label: 'Targets' },
  { href: '/runs', label: 'Runs' },
  { href: '/loadtests', label: 'Load tests' },
  { href: '/schedules', label: 'Schedules' },
  { href: '/settings', label: 'Settings / status' },
];

export function Nav() {
  const p = usePathname();
  return (
    <nav className="nav">
      {ITEMS.map((i) => (
        <Link key={i.href} href={i.href} className={(i.href === '/' ? p === '/' : p.startsWith(i.href)) ? 'active' : ''}>
          {i.label}
        </Link>
      ))}
    </nav>
  );
}
