/**
 * Security headers of every console response (issue 13, clickjacking).
 *
 *   page request ─▶ proxy.ts: fresh nonce ─▶ CSP on the request (Next reads the
 *                  nonce from it and stamps its own inline scripts) and on the response
 *   /api, assets ─▶ next.config.ts headers(): the static set below, CSP `default-src 'none'`
 *
 * Why the policy looks like this: Next's hydration data and runtime are
 * inline `<script>`s, allowed by the nonce; `'strict-dynamic'` lets those
 * load the page chunks. React renders `style={{…}}` as style attributes,
 * which a nonce cannot cover, hence `'unsafe-inline'` for styles only
 * (styles cannot run code). `frame-ancestors 'none'` is the clickjacking
 * guard; `X-Frame-Options: DENY` says the same to browsers that predate it.
 */

/** Headers every response carries, pages and API alike. */
export const STATIC_SECURITY_HEADERS: readonly { key: string; value: string }[] = [
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

/** CSP of API answers and assets: they are data, never documents that run or embed anything. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** CSP of a console page rendered with `nonce`. `dev` adds what `next dev` needs (eval for React's error overlay, websocket HMR). */
export function pageCsp(nonce: string, dev = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? ' ws: wss:' : ''}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** A nonce: 128 random bits, base64 (Web Crypto, so it runs in the proxy's runtime too). */
export function newNonce(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return btoa(String.fromCharCode(...b));
}
