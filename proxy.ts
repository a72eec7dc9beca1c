/**
 * Next's request proxy (formerly middleware): gives every page render a
 * fresh CSP nonce (see app/_lib/security-headers.ts). API routes are not
 * matched on purpose: a proxy makes Next buffer the request body for it,
 * which would defeat the streaming body limit of app/_lib/route.ts; their
 * headers, and the static ones of pages, come from next.config.ts.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { newNonce, pageCsp } from './app/_lib/security-headers';

export function proxy(request: NextRequest): NextResponse {
  const nonce = newNonce();
  const csp = pageCsp(nonce, process.env.NODE_ENV === 'development');
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('x-nonce', nonce);
  // Next reads the nonce from the request's CSP header while rendering.
  requestHeaders.set('content-security-policy', csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('Content-Security-Policy', csp);
  return response;
}

export const config = {
  matcher: [{ source: '/((?!api/|_next/static|_next/image|favicon.ico).*)' }],
};
