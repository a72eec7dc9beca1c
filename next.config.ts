import type { NextConfig } from 'next';
import { API_CSP, STATIC_SECURITY_HEADERS } from './app/_lib/security-headers';

/**
 * The console runs on the server next to the platform modules: database,
 * Redis and BullMQ clients are Node packages that must not be bundled.
 */
const nextConfig: NextConfig = {
  serverExternalPackages: [
    'pg',
    'bullmq',
    'ioredis',
    'pino',
    '@elastic/elasticsearch',
    'toxiproxy-node-client',
    'hdr-histogram-js',
    'autocannon',
    'undici',
    'cron-parser',
  ],
  // `next build` must not fail the whole console on a type error in a
  // sibling folder that is being edited; `npm run typecheck` guards types.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  // Security headers on every response (the page CSP with its nonce is set by proxy.ts).
  async headers() {
    return [
      { source: '/:path*', headers: [...STATIC_SECURITY_HEADERS] },
      { source: '/api/:path*', headers: [{ key: 'Content-Security-Policy', value: API_CSP }] },
    ];
  },
  // e2e and parallel builds may use their own output folder so they do not overwrite each other's build.
  distDir: process.env.FAULTLINE_NEXT_DIST_DIR || '.next',
  // The platform modules are TypeScript ESM importing `./x.js` (as tsx and
  // Node expect); webpack maps those to the .ts sources. Turbopack has no
  // equivalent yet, so the console builds with `next build --webpack`.
  webpack: (
    config: { resolve: { extensionAlias?: Record<string, string[]> }; module: { parser?: Record<string, Record<string, unknown>> } },
    ctx: { isServer: boolean },
  ) => {
    config.resolve.extensionAlias = { '.js': ['.ts', '.tsx', '.js'], '.mjs': ['.mts', '.mjs'] };
    if (ctx.isServer) {
      // Platform modules locate files next to their source (`new URL('./x', import.meta.url)`,
      // e.g. the load engine's worker entry, shipped experiments). Leave those as runtime
      // expressions over the source file's URL instead of turning them into bundled assets;
      // likewise `createRequire(import.meta.url).resolve(...)` (the HTML report inlines uPlot).
      config.module.parser = { ...config.module.parser, javascript: { ...config.module.parser?.javascript, url: false, createRequire: false } };
    }
    return config;
  },
  reactStrictMode: true,
  // The tree has many folders that are not part of the console.
  outputFileTracingExcludes: { '*': ['.faultline/**', 'e2e/**', 'bench/**'] },
};

export default nextConfig;
