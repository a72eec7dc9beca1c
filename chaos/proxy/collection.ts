/**
 * The proxy collection and the operations behind each API route, in
 * Toxiproxy's order of checks (so the first error reported is the same one).
 * Bodies are decoded with Go's rules (gojson.ts); answers are plain data the
 * HTTP layer serialises.
 */
import { FaultProxyEntry, ERR, ProxyApiError, ZERO_TOTALS, addTotals, resolvedListenText, type TByteTotals } from './proxy.js';
import type { TDirection, TToxicDef } from './link.js';
import { toxicModule } from './toxics/index.js';
import { GoFloat32, GoJsonError, goBool, goFields, goFloat32, goInt, goParse, goString, typeError, type TGoValue } from './gojson.js';

const POPULATE_GO_TYPE = '[]struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }';
const POPULATE_ITEM_GO_TYPE = 'struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }';
const TOXIC_UPDATE_GO_TYPE = 'struct { Attributes interface {} "json:\\"attributes\\""; Toxicity float32 "json:\\"toxicity\\"" }';

function parseBody(text: string): TGoValue {
  try {
    return goParse(text);
  } catch (e) {
    if (e instanceof GoJsonError) throw ERR.badBody(e.message);
    throw e;
  }
}

/** Run a decode step, turning Go type errors into `bad request body: …`. */
function decoding<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GoJsonError) throw ERR.badBody(e.message);
    throw e;
  }
}

interface TProxyInput {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean | null;
}

/** Decode a `toxiproxy.Proxy` object; `struct` names the Go type for errors. */
function decodeProxy(v: TGoValue, cur: TProxyInput, struct: string, enabledStruct: string, rootType: string): TProxyInput {
  if (v.k === 'null') return cur;
  if (v.k !== 'obj') throw typeError(v, rootType, null);
  const f = goFields(v, ['name', 'listen', 'upstream', 'enabled']);
  const out = { ...cur };
  const at = (field: string, s = struct) => ({ struct: s, field });
  if (f.has('name')) out.name = goString(f.get('name')!, out.name, at('name'));
  if (f.has('listen')) out.listen = goString(f.get('listen')!, out.listen, at('listen'));
  if (f.has('upstream')) out.upstream = goString(f.get('upstream')!, out.upstream, at('upstream'));
  if (f.has('enabled')) {
    const ev = f.get('enabled')!;
    out.enabled = ev.k === 'null' && cur.enabled === null ? null : goBool(ev, out.enabled ?? true, at('enabled', enabledStruct));
  }
  return out;
}

/** The labels of Toxiproxy's proxy metrics. */
export interface TProxyLabels {
  proxy: string;
  listener: string;
  upstream: string;
}

export function proxyLabels(p: FaultProxyEntry): TProxyLabels {
  return { proxy: p.name, listener: p.listen, upstream: p.upstream };
}

export interface TProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  Logger: Record<string, never>;
  toxics: TToxicJson[];
}

export interface TToxicJson {
  attributes: Record<string, number>;
  name: string;
  type: string;
  stream: string;
  toxicity: GoFloat32;
}

export function toxicJson(t: TToxicDef): TToxicJson {
  return { attributes: { ...t.attributes }, name: t.name, type: t.type, stream: t.stream, toxicity: new GoFloat32(t.toxicity) };
}

export function proxyJson(p: FaultProxyEntry): TProxyJson {
  return { name: p.name, listen: p.listen, upstream: p.upstream, enabled: p.enabled, Logger: {}, toxics: p.toxics().map(toxicJson) };
}

/** Options of a proxy collection. */
export interface TCollectionOptions {
  /** Random source for toxicity rolls, jitter and slicing. @defaultValue Math.random */
  random?: () => number;
}

export class ProxyCollection {
  private readonly proxies = new Map<string, FaultProxyEntry>();
  private readonly random: () => number;
  /** Byte totals of proxies deleted or replaced, by their labels (Prometheus counters outlive them, as in Toxiproxy). */
  readonly retired = new Map<string, { labels: TProxyLabels; totals: TByteTotals }>();
  /** API calls run one at a time (Toxiproxy holds a mutex for each). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: TCollectionOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

  /** Run `fn` after every earlier call finished. */
  serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  list(): Map<string, FaultProxyEntry> {
    return this.proxies;
  }

  get(name: string): FaultProxyEntry {
    const p = this.proxies.get(name);
    if (!p) throw ERR.proxyNotFound();
    return p;
  }

  /** POST /proxies */
  async create(body: string): Promise<FaultProxyEntry> {
    const v = parseBody(body);
    const input = decoding(() => decodeProxy(v, { name: '', listen: '', upstream: '', enabled: true }, 'Proxy', 'Proxy', 'toxiproxy.Proxy'));
    if (input.name.length < 1) throw ERR.missingField('name');
    if (input.upstream.length < 1) throw ERR.missingField('upstream');
    if (this.proxies.has(input.name)) throw ERR.proxyExists();
    const p = new FaultProxyEntry(input.name, input.listen, input.upstream, this.random);
    if (input.enabled) await p.start();
    this.proxies.set(p.name, p);
    return p;
  }

  /**
   * POST /populate: validate every entry, then create, keep (same name, listen
   * and upstream) or replace (same name, otherwise different: without toxics)
   * each in order, stopping at the first failure.
   */
  async populate(body: string): Promise<{ proxies: FaultProxyEntry[]; error?: ProxyApiError }> {
    let entries: TProxyInput[];
    try {
      const v = parseBody(body);
      entries = decoding(() => {
        if (v.k === 'null') return [];
        if (v.k !== 'arr') throw typeError(v, POPULATE_GO_TYPE, null);
        return v.items.map((it) => decodeProxy(it, { name: '', listen: '', upstream: '', enabled: null }, '', '', POPULATE_ITEM_GO_TYPE));
      });
      entries.forEach((e, i) => {
        if (e.name.length < 1) throw ERR.missingField(`name at proxy ${i + 1}`);
        if (e.upstream.length < 1) throw ERR.missingField(`upstream at proxy ${i + 1}`);
      });
    } catch (e) {
      return { proxies: [], error: asApiError(e) };
    }
    const done: FaultProxyEntry[] = [];
    for (const e of entries) {
      const enabled = e.enabled ?? true;
      try {
        const existing = this.proxies.get(e.name);
        if (existing && existing.listen === resolvedListenText(e.listen) && existing.upstream === e.upstream) {
          done.push(existing);
          continue;
        }
        if (existing) {
          await existing.stop();
          this.retire(existing);
        }
        const p = new FaultProxyEntry(e.name, e.listen, e.upstream, this.random);
        if (enabled) await p.start();
        this.proxies.set(p.name, p);
        done.push(p);
      } catch (err) {
        return { proxies: done, error: asApiError(err) };
      }
    }
    return { proxies: done };
  }

  /** POST|PATCH /proxies/{p}: absent fields keep their value; the name cannot change. */
  async update(name: string, body: string): Promise<FaultProxyEntry> {
    const p = this.get(name);
    const v = parseBody(body);
    const input = decoding(() =>
      decodeProxy(v, { name: p.name, listen: p.listen, upstream: p.upstream, enabled: p.enabled }, 'Proxy', 'Proxy', 'toxiproxy.Proxy'),
    );
    await p.update({ listen: input.listen, upstream: input.upstream, enabled: input.enabled ?? p.enabled });
    return p;
  }

  /** DELETE /proxies/{p} */
  async remove(name: string): Promise<void> {
    const p = this.get(name);
    await p.stop();
    this.proxies.delete(name);
    this.retire(p);
  }

  private retire(p: FaultProxyEntry): void {
    const labels = proxyLabels(p);
    const key = JSON.stringify(labels);
    const prev = this.retired.get(key)?.totals ?? ZERO_TOTALS;
    this.retired.set(key, { labels, totals: addTotals(prev, p.byteTotals()) });
  }

  /** POST /reset: every proxy enabled again, every toxic removed; proxies kept. */
  async reset(): Promise<void> {
    for (const p of this.proxies.values()) {
      if (!p.enabled) await p.start();
      p.resetToxics();
    }
  }

  /** POST /proxies/{p}/toxics */
  addToxic(proxyName: string, body: string): TToxicDef {
    const p = this.get(proxyName);
    const v = parseBody(body);
    const w = decoding(() => {
      if (v.k !== 'obj' && v.k !== 'null') throw typeError(v, 'toxics.ToxicWrapper', null);
      const out = { name: '', type: '', stream: 'downstream', toxicity: 1, attrs: null as TGoValue | null };
      if (v.k === 'null') return out;
      const f = goFields(v, ['name', 'type', 'stream', 'toxicity', 'attributes']);
      const at = (field: string) => ({ struct: 'ToxicWrapper', field });
      if (f.has('name')) out.name = goString(f.get('name')!, out.name, at('name'));
      if (f.has('type')) out.type = goString(f.get('type')!, out.type, at('type'));
      if (f.has('stream')) out.stream = goString(f.get('stream')!, out.stream, at('stream'));
      if (f.has('toxicity')) out.toxicity = goFloat32(f.get('toxicity')!, out.toxicity, at('toxicity'));
      if (f.has('attributes')) {
        const a = f.get('attributes')!;
        if (a.k !== 'obj' && a.k !== 'null') throw typeError(a, 'toxics.NoopToxic', at('attributes'));
        out.attrs = a;
      }
      return out;
    });
    const direction = parseDirection(w.stream);
    const name = w.name === '' ? `${w.type}_${w.stream}` : w.name;
    const module = toxicModule(w.type);
    if (!module) throw ERR.invalidToxicType();
    if (p.findToxic(name)) throw ERR.toxicExists();
    const attributes = decoding(() => decodeAttributes(module.goStruct, module.goInt, { ...module.attributes }, w.attrs));
    const def: TToxicDef = { name, type: w.type, stream: w.stream, direction, toxicity: w.toxicity, attributes, module };
    p.addToxic(def);
    return def;
  }

  /** POST|PATCH /proxies/{p}/toxics/{t}: only `attributes` and `toxicity` change. */
  updateToxic(proxyName: string, toxicName: string, body: string): TToxicDef {
    const p = this.get(proxyName);
    const cur = p.findToxic(toxicName);
    if (!cur) throw ERR.toxicNotFound();
    const v = parseBody(body);
    const next = decoding(() => {
      if (v.k !== 'obj' && v.k !== 'null') throw typeError(v, TOXIC_UPDATE_GO_TYPE, null);
      let attributes = { ...cur.attributes };
      let toxicity = cur.toxicity;
      if (v.k === 'obj') {
        const f = goFields(v, ['attributes', 'toxicity']);
        if (f.has('attributes')) attributes = decodeAttributes(cur.module.goStruct, cur.module.goInt, attributes, f.get('attributes')!);
        if (f.has('toxicity')) toxicity = goFloat32(f.get('toxicity')!, toxicity, { struct: '', field: 'toxicity' });
      }
      return { ...cur, attributes, toxicity };
    });
    p.updateToxic(next);
    return next;
  }

  /** DELETE /proxies/{p}/toxics/{t} */
  removeToxic(proxyName: string, toxicName: string): void {
    const p = this.get(proxyName);
    if (!p.removeToxic(toxicName)) throw ERR.toxicNotFound();
  }

  /** Stop every proxy (server shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
  }
}

/** `stream`: case-insensitive `upstream` | `downstream`. */
function parseDirection(s: string): TDirection {
  const l = s.toLowerCase();
  if (l === 'upstream' || l === 'downstream') return l;
  throw ERR.invalidStream();
}

/** Decode `attributes` into the toxic's typed struct: known keys only, integers only. */
function decodeAttributes(goStruct: string, goIntType: 'int' | 'int64', cur: Record<string, number>, v: TGoValue | null): Record<string, number> {
  if (!v || v.k === 'null') return cur;
  if (v.k !== 'obj') throw typeError(v, `toxics.${goStruct}`, { struct: '', field: 'attributes' });
  const names = Object.keys(cur);
  const f = goFields(v, names);
  const out = { ...cur };
  for (const n of names) {
    if (f.has(n)) out[n] = goInt(f.get(n)!, out[n], { struct: goStruct, field: `attributes.${n}` }, goIntType);
  }
  return out;
}

function asApiError(e: unknown): ProxyApiError {
  if (e instanceof ProxyApiError) return e;
  return new ProxyApiError(e instanceof Error ? e.message : String(e), 500);
}
