/**
 * docker-compose.yml is correct by construction (no Docker engine here): its
 * structure is checked against a zod schema of the compose-spec subset it
 * uses, and cross-checked against the code it runs — environment names
 * against core/config.ts, `faultline shop up` flags against the CLI, mounts
 * against the repository, the Prometheus discovery URL against
 * SUPERVISOR_URL. Where the compose plugin exists, `docker compose config -q`
 * validates it too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigSchema, loadConfig } from './core/config.js';
import { register as registerShop } from './cli/commands/shop.js';

const root = path.dirname(fileURLToPath(import.meta.url));
const text = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

const StringList = z.array(z.string());
const ServiceSchema = z
  .object({
    image: z.string().optional(),
    build: z.union([z.string(), z.object({ context: z.string(), dockerfile: z.string().optional() }).strict()]).optional(),
    command: z.union([z.string(), StringList]).optional(),
    entrypoint: z.union([z.string(), StringList]).optional(),
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/), z.union([z.string(), z.number(), z.boolean()])).optional(),
    ports: z.array(z.string().regex(/^\d+:\d+$/)).optional(),
    volumes: StringList.optional(),
    depends_on: z
      .union([
        StringList,
        z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) }).strict()),
      ])
      .optional(),
    profiles: StringList.optional(),
    healthcheck: z
      .object({ test: StringList, interval: z.string().optional(), timeout: z.string().optional(), retries: z.number().int().optional() })
      .strict()
      .optional(),
    restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
    deploy: z
      .object({ replicas: z.number().int().min(1) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => s.image !== undefined || s.build !== undefined, { message: 'a service needs image or build' });

const ComposeSchema = z
  .object({
    services: z.record(z.string(), ServiceSchema),
    volumes: z.record(z.string(), z.null()).optional(),
  })
  // extension fields (x-…) hold the YAML anchors shared by the services
  .catchall(z.unknown())
  .superRefine((doc, ctx) => {
    for (const k of Object.keys(doc)) {
      if (k !== 'services' && k !== 'volumes' && !k.startsWith('x-')) ctx.addIssue({ code: 'custom', path: [k], message: 'unknown top-level key' });
    }
  });

const compose = ComposeSchema.parse(parse(text, { merge: true }));
const services = compose.services;
type TService = z.infer<typeof ServiceSchema>;

const ours = Object.entries(services).filter(([, s]) => s.build !== undefined);
const envOf = (s: TService) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
const commandOf = (s: TService) => (Array.isArray(s.command) ? s.command : (s.command ?? '').split(/\s+/));

describe('docker-compose.yml', () => {
  it('has every component of the stack, with the pinned third-party images', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'console',
        'elasticsearch',
        'grafana',
        'k6',
        'kibana',
        'kibana-init',
        'load-workers',
        'migrate',
        'postgres',
        'prometheus',
        'redis',
        'shop',
        'toxiproxy',
        'workers',
      ].sort(),
    );
    expect(services.toxiproxy.image).toBe('ghcr.io/shopify/toxiproxy:2.12.0');
    expect(services.elasticsearch.image).toMatch(/^docker\.elastic\.co\/elasticsearch\/elasticsearch:8\./);
    expect(services.kibana.image).toMatch(/^docker\.elastic\.co\/kibana\/kibana:8\./);
    expect(services.k6.image).toMatch(/^grafana\/k6:/);
    expect(services.k6.profiles).toEqual(['k6']);
    // only k6 and the load-only workers are behind profiles: `docker compose up` starts the rest
    expect(
      Object.entries(services)
        .filter(([, s]) => s.profiles)
        .map(([n]) => n)
        .sort(),
    ).toEqual(['k6', 'load-workers']);
    expect(ours.map(([n]) => n).sort()).toEqual(['console', 'load-workers', 'migrate', 'shop', 'workers']);
    expect(commandOf(services.workers)).toEqual(['faultline', 'worker']);
    // two load generators that take segments, never runs (`faultline worker --roles load`)
    expect(commandOf(services['load-workers'])).toEqual(['faultline', 'worker', '--roles', 'load']);
    expect(services['load-workers'].deploy?.replicas).toBe(2);
    // the same Redis, database and prefix as the workers that run the runs, or they never meet
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'FAULTLINE_PREFIX', 'SHOP_GATEWAY_URL'])
      expect(envOf(services['load-workers'])[k], k).toBe(envOf(services.workers)[k]);
    expect(commandOf(services.console)).toContain('next');
  });

  it('gives faultline processes only the variables the code reads, with values it accepts', () => {
    const known = new Set([...Object.keys(ConfigSchema.shape), 'SHOP_BUGS']);
    for (const [name, s] of ours) {
      const env = envOf(s);
      for (const k of Object.keys(env)) expect(known.has(k), `${name}: ${k} is not a configuration variable`).toBe(true);
      // the same parser as embedded mode accepts the values
      const cfg = loadConfig(env as NodeJS.ProcessEnv);
      expect(cfg.DATABASE_URL, name).toMatch(/^postgres:\/\/.*@postgres:5432\//);
    }
    // the platform processes get every service address they need
    for (const name of ['console', 'workers']) {
      const env = envOf(services[name]);
      for (const k of ['DATABASE_URL', 'SHOP_DATABASE_URL', 'REDIS_URL', 'TOXIPROXY_URL', 'SUPERVISOR_URL', 'SHOP_GATEWAY_URL', 'ELASTICSEARCH_URL']) {
        expect(env[k], `${name}.${k}`).toBeDefined();
      }
    }
  });

  it('points every URL at a service of the file, on the port that service uses', () => {
    const env = envOf(services.workers);
    const hostOf = (u: string) => new URL(u).hostname;
    for (const k of ['DATABASE_URL', 'SHOP_DATABASE_URL', 'REDIS_URL', 'TOXIPROXY_URL', 'SUPERVISOR_URL', 'SHOP_GATEWAY_URL', 'ELASTICSEARCH_URL']) {
      expect(Object.keys(services), k).toContain(hostOf(env[k]));
    }
    expect(new URL(env.SHOP_GATEWAY_URL).port).toBe('8080');
    expect(services.shop.ports).toContain('8080:8080');
    expect(envOf(services.k6).BASE_URL).toBe(env.SHOP_GATEWAY_URL);
    // Prometheus discovers the shop's instances through the supervisor
    const prom = readFileSync(path.join(root, 'dashboards/prometheus/prometheus.yml'), 'utf8');
    const sd = /url:\s*(http:\/\/[^\s]+\/sd\/prometheus)/.exec(prom)?.[1];
    expect(sd && new URL(sd).host).toBe(new URL(env.SUPERVISOR_URL).host);
  });

  it('runs the shop with flags `faultline shop up` accepts, behind the Toxiproxy container', () => {
    const program = new Command();
    registerShop(program);
    const up = program.commands.find((c) => c.name() === 'shop')!.commands.find((c) => c.name() === 'up')!;
    const known = new Set(up.options.map((o) => o.long));
    const cmd = commandOf(services.shop);
    expect(cmd.slice(0, 3)).toEqual(['faultline', 'shop', 'up']);
    for (const flag of cmd.filter((a) => a.startsWith('--'))) expect(known.has(flag), `unknown flag ${flag}`).toBe(true);
    const arg = (flag: string) => cmd[cmd.indexOf(flag) + 1];
    expect(arg('--toxiproxy-url')).toBe(envOf(services.shop).TOXIPROXY_URL);
    // services must be reachable from the toxiproxy container and the admin API from the workers
    expect(arg('--host')).toBe('0.0.0.0');
    expect(arg('--advertise-host')).toBe('shop');
    expect(arg('--admin-host')).toBe('0.0.0.0');
    expect(Object.keys(services.shop.depends_on ?? {})).toEqual(expect.arrayContaining(['postgres', 'redis', 'toxiproxy']));
  });

  it('mounts paths that exist in the repository and declares its named volumes', () => {
    const named = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [src] = v.split(':');
        if (src.startsWith('./')) expect(existsSync(path.join(root, src)), `${name}: ${src} missing`).toBe(true);
        else expect(named.has(src), `${name}: volume ${src} not declared`).toBe(true);
      }
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(Object.keys(services), `${name} depends on ${d}`).toContain(d);
    }
    expect(services.prometheus.volumes).toContain('./dashboards/prometheus:/etc/prometheus:ro');
    expect(existsSync(path.join(root, 'dashboards/prometheus/prometheus.yml'))).toBe(true);
    expect(services.grafana.volumes).toContain('./dashboards/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(services.k6.volumes).toContain('./loadtests/k6:/scripts:ro');
    expect(existsSync(path.join(root, 'dashboards/kibana/saved-objects.ndjson'))).toBe(true);
    expect(existsSync(path.join(root, 'Dockerfile'))).toBe(true);
  });

  it('passes `docker compose config -q` where the compose plugin exists', () => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      // No Docker on the build machines (DESIGN.md): the schema checks above are what runs here.
      console.info(
        `docker compose config -q not run: ${probe.error ? `docker not found (${(probe.error as NodeJS.ErrnoException).code})` : `docker compose plugin unavailable (exit ${probe.status})`}`,
      );
      return;
    }
    expect(() => execFileSync('docker', ['compose', '-f', path.join(root, 'docker-compose.yml'), 'config', '-q'], { stdio: 'pipe' })).not.toThrow();
  });
});
