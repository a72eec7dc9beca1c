import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors.js';
import { deriveVerdict } from '../schema.js';
import { chartData, parseReport, renderHtml, renderJunit, renderSummary, summaryOf, violationsOf, writeReport, type TReport } from '../index.js';
import { sampleReport } from '../sample.js';

let passed: TReport;
let doubleCharge: TReport;
let noBreaker: TReport;
const dirs: string[] = [];

beforeAll(async () => {
  passed = await sampleReport();
  doubleCharge = await sampleReport({ bug: 'double-charge' });
  noBreaker = await sampleReport({ bug: 'breaker-disabled' });
});

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A copy with hostile text in every free-form field the renderers print. */
function hostile(r: TReport): TReport {
  const x = structuredClone(r);
  x.run.description = 'a <b>&"quotes"</script><script>alert(1)</script>';
  x.invariants[0] = {
    ...x.invariants[0],
    pass: false,
    violations: [{ kind: 'k<&>', message: 'bad | pipe\nnewline </script> \u0001ctl', ids: ['1&2'], rows: [{ note: '</script>' }], events: [] }],
  };
  return x;
}

describe('sample reports (analysis over realistic data)', () => {
  it('the healthy run passes; bug switches fail the right checks', () => {
    expect(passed.verdict).toBe('passed');
    expect(doubleCharge.verdict).toBe('failed');
    expect(doubleCharge.reason).toBe('failed: invariant payment-exactly-once');
    expect(noBreaker.verdict).toBe('failed');
    // breaker disabled → the breaker expectation and the latency SLO fail
    expect(noBreaker.breakers.expectations[0].pass).toBe(false);
    expect(noBreaker.slos.find((s) => s.name === 'checkout-latency')?.verdict).toBe('fail');
    expect(noBreaker.reason).toMatch(/SLO checkout-latency.*breaker orders->payments during payments-slow/);
  });
});

describe('deriveVerdict: a run that judged nothing', () => {
  const inv = (name: string, checked: number, pass = true) => ({ name, description: name, pass, checked, violations: [] });
  const base = { slos: [], breakers: { expectations: [], timelines: [] } } as unknown as Pick<TReport, 'slos' | 'breakers'>;

  it('is inconclusive (errored) when writes completed but none was acknowledged, and passes once one was', () => {
    const none = deriveVerdict({ ...base, invariants: [inv('acknowledged-orders-exist', 0), inv('history-consistent', 57), inv('stock-conserved', 5)] });
    expect(none.verdict).toBe('errored');
    expect(none.reason).toMatch(/^inconclusive: none of the load's 57 completed writes was acknowledged/);
    const one = deriveVerdict({ ...base, invariants: [inv('acknowledged-orders-exist', 1), inv('history-consistent', 57)] });
    expect(one).toEqual({ verdict: 'passed', reason: null });
  });

  it('passes a load that tried no write, and still fails a failing check first', () => {
    expect(deriveVerdict({ ...base, invariants: [inv('acknowledged-orders-exist', 0), inv('history-consistent', 0)] }).verdict).toBe('passed');
    expect(deriveVerdict({ ...base, invariants: [inv('acknowledged-orders-exist', 0)] }).verdict).toBe('passed');
    const failing = deriveVerdict({ ...base, invariants: [inv('acknowledged-orders-exist', 0), inv('history-consistent', 9), inv('saga-terminal', 3, false)] });
    expect(failing).toEqual({ verdict: 'failed', reason: 'failed: invariant saga-terminal' });
  });
});

describe('runs table records', () => {
  it('a healthy run has no violation rows; a failed check gives one row per violation, kind by check', () => {
    expect(violationsOf(passed)).toEqual([]);
    expect(summaryOf(passed)).toMatchObject({ slos: { failed: 0 }, breakers: { failed: 0 }, invariants: { failed: 0 } });
    const rows = violationsOf(doubleCharge);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.name === 'payment-exactly-once').every((r) => r.kind === 'consistency')).toBe(true);
    const failed = violationsOf(noBreaker);
    expect(failed.map((r) => r.kind)).toEqual(expect.arrayContaining(['slo', 'breaker']));
    expect(summaryOf(noBreaker)).toMatchObject({ breakers: { passed: 0, failed: 1 } });
  });
});

describe('junit.xml', () => {
  it('has one test case per SLO, breaker expectation and invariant; failures carry evidence', () => {
    const xml = renderJunit(doubleCharge);
    const cases = xml.match(/<testcase /g) ?? [];
    expect(cases).toHaveLength(doubleCharge.slos.length + doubleCharge.breakers.expectations.length + doubleCharge.invariants.length);
    expect(xml).toMatch(/<testsuites name="faultline" tests="12" failures="1" errors="0"/);
    const failure =
      /<testcase classname="faultline\.payments-latency\.invariant" name="payment-exactly-once" time="0">\s*<failure type="invariant" message="([^"]*)">([^<]*)<\/failure>/.exec(
        xml,
      );
    expect(failure?.[1]).toMatch(/^2 violation\(s\): order 9000123 charged 2 times/);
    expect(failure?.[2]).toContain('ids: 9000123, 4411, 4417');
    // the trail explains it: both captures with their idempotency keys, in time order
    expect(failure?.[2]).toMatch(/trail:\n\s+\d\d:\d\d:\d\d\.\d+ \[orders\.orders\] order 9000123 created: 1299 cents, key k-9000123\n/);
    expect(failure?.[2]).toMatch(
      /\[payments\.payments\] payment 4411 for order 9000123: 1299 cents captured, idempotency key co-9000123\n.*\[payments\.payments\] payment 4417 for order 9000123: 1299 cents captured, idempotency key co-9000123-retry1/s,
    );
    // the pre-existing double charge is neither counted nor listed as a failure
    expect(failure?.[1]).toMatch(/^2 violation\(s\)/);
    expect(failure?.[2]).not.toContain('8000042');
    expect(xml).toContain('1 pre-existing finding(s) from before the run, not counted');
  });

  it('escapes text and drops control characters; an aborted run gets an <error> case', () => {
    const x = hostile(doubleCharge);
    x.verdict = 'aborted';
    x.reason = 'abort: error rate > 90% for 10s <now>';
    const xml = renderJunit(x);
    expect(xml).not.toContain('</script>');
    expect(xml).not.toContain('\u0001');
    expect(xml).toContain('k&lt;&amp;&gt;');
    expect(xml).toMatch(
      /<testcase classname="faultline\.payments-latency\.run" name="run" time="0">\s*<error type="aborted" message="abort: error rate &gt; 90% for 10s &lt;now&gt;"/,
    );
  });
});

describe('summary.md', () => {
  it('shows verdict, the SLO table side by side, breakers and violations', () => {
    const md = renderSummary(doubleCharge);
    expect(md.split('\n')[0]).toBe('## ❌ payments-latency: failed');
    expect(md).toContain('| | SLO | target | client (corrected) | client (k6-style) | server | run budget used | worst burn 1m / 5m |');
    // the budget is this run's own: bad events of the allowed ones
    expect(md).toMatch(/\| \d+% \(\d+ bad of \d+\.\d allowed\) \|/);
    expect(md).toMatch(/\| ✅ \| checkout-latency \| `POST \/checkout` latency ≤ 2500 ms for ≥ 55% \| \*\*\d+\.\d\d%\*\* \| \d+\.\d\d% \| \d+\.\d\d% \|/);
    expect(md).toMatch(/\| ✅ \| `orders->payments` \| payments-slow \| [12]\.\d s \|/);
    expect(md).toContain(
      '- `double-capture` order 9000123 charged 2 times: payments 4411 (key co-9000123), 4417 (key co-9000123-retry1) — ids `9000123`, `4411`, `4417`',
    );
    // first lines of the trail under the violation
    expect(md).toMatch(
      / {2}```\n {2}\d\d:\d\d:\d\d\.\d+ \[orders\.orders\] order 9000123 created: 1299 cents, key k-9000123\n {2}\d\d:\d\d:\d\d\.\d+ \[orders\.order_events\] order 9000123: ∅ → pending\n/,
    );
    expect(md).toMatch(/more steps in report\.json/);
    expect(md).toContain('After the load: settled in 1.8 s (max ');
    expect(md).toContain('(2 violations, 1 pre-existing)');
    expect(md).toContain('| ❌ | payment-exactly-once | 212 | 2 | 1 |');
  });

  it('lists pre-existing findings apart, and they do not fail the run', () => {
    const md = renderSummary(doubleCharge);
    const [fresh, old] = md.split('Pre-existing: ');
    expect(fresh).not.toContain('8000042');
    expect(old).toMatch(/^1 finding\(s\) already there before this run \(they do not fail it\)/);
    expect(old).toContain('- payment-exactly-once `double-capture` order 8000042 charged 2 times');
    // only pre-existing: the invariant passes and the run with it
    const x = structuredClone(doubleCharge);
    const inv = x.invariants.find((i) => i.name === 'payment-exactly-once')!;
    inv.violations = inv.violations.filter((v) => v.preExisting);
    inv.pass = true;
    expect(renderSummary(x)).toContain('| ✅ | payment-exactly-once | 212 | 0 | 1 |');
  });

  it('keeps table rows intact with pipes and newlines in text', () => {
    const md = renderSummary(hostile(doubleCharge));
    expect(md).toContain('bad \\| pipe newline');
  });
});

describe('report.html', () => {
  it('is self-contained, with the chart data and tables', () => {
    const html = renderHtml(noBreaker);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toContain('uPlot');
    const data = JSON.parse(/<script id="fl-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]);
    expect(data).toEqual(JSON.parse(JSON.stringify(chartData(noBreaker))));
    expect(data.x).toHaveLength(noBreaker.series.seconds.length);
    expect(data.faults).toEqual([{ name: 'payments-slow', from: 4.2, to: 22.2 }]);
    // the x axis spans the load (40 s) and settling (1.8 s), not a fixed quiescence
    const loadS = (noBreaker.run.loadEndedAt! - noBreaker.run.startedAt) / 1000;
    expect(data.xmax).toBeCloseTo(loadS + 1.8, 6);
    expect(data.marks).toEqual([
      { name: 'load end', at: loadS },
      { name: 'settled', at: Math.round((loadS + 1.8) * 10) / 10 },
    ]);
    // legends carry values without hovering
    const cp99 = noBreaker.series.seconds.map((x) => x.cp99);
    const fmt = (v: number) => (v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
    expect(data.legend.latency['p99 corrected']).toBe(`min ${fmt(Math.min(...cp99))} · max ${fmt(Math.max(...cp99))} · last ${fmt(cp99[cp99.length - 1]!)}`);
    expect(Math.max(...cp99)).toBeGreaterThan(2500);
    expect(data.legend.errors.http_503).toMatch(/^total \d+ · max \d+\/s$/);
    expect(html).toContain('Settling after the load: settled in 1.8 s');
    expect(data.lanes.map((l: { label: string }) => l.label)).toEqual(['orders->payments · orders-0', 'orders->payments · orders-1']);
    expect(html).toContain('did not open during payments-slow');
  });

  it('shows the trail under each violation, pre-existing findings apart, settling and the run budget', () => {
    const html = renderHtml(doubleCharge);
    const [fresh, old] = html.split('<h3>Pre-existing findings</h3>');
    expect(fresh).toContain('trail: 12 step(s)');
    expect(fresh).toContain('payment 4417 for order 9000123: 1299 cents captured, idempotency key co-9000123-retry1');
    expect(fresh).not.toContain('order 8000042');
    expect(old).toContain('order 8000042 charged 2 times');
    expect(html).toMatch(/<span>settling<\/span><b class="">1\.8 s<\/b>/);
    expect(html).toMatch(/\d+%<br><span class="muted">\d+ bad of \d+\.\d allowed<\/span>/);
  });

  it('cannot be broken out of by report text', () => {
    const html = renderHtml(hostile(doubleCharge));
    // only our own three script elements close
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain('a &lt;b&gt;&amp;&quot;quotes&quot;&lt;/script&gt;');
  });
});

describe('writeReport', () => {
  it('writes the four files; report.json reads back identical', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-report-'));
    dirs.push(dir);
    const files = await writeReport(doubleCharge, path.join(dir, 'nested'));
    expect(Object.keys(files).sort()).toEqual(['junit.xml', 'report.html', 'report.json', 'summary.md']);
    const back = parseReport(JSON.parse(await readFile(files['report.json'], 'utf8')));
    expect(back).toEqual(doubleCharge);
    expect(await readFile(files['summary.md'], 'utf8')).toBe(renderSummary(doubleCharge));
  });

  it("reads a version-1 report back, its budget recomputed as the run's own", () => {
    const v1 = JSON.parse(JSON.stringify(passed)) as Record<string, any>;
    v1.schemaVersion = 1;
    for (const s of v1.slos)
      for (const f of s.figures) {
        delete f.bad;
        delete f.allowedBad;
        f.budgetConsumedPct = 0.0001;
      }
    const back = parseReport(v1);
    expect(back.schemaVersion).toBe(2);
    expect(back.slos).toEqual(passed.slos);
  });

  it('refuses an invalid report naming the field', async () => {
    const bad = { ...doubleCharge, schemaVersion: 3 } as unknown as TReport;
    const err = await writeReport(bad, os.tmpdir()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).issues[0].path).toBe('schemaVersion');
  });
});

const CHROMIUM = '/usr/bin/chromium';
describe.skipIf(!existsSync(CHROMIUM))('report.html in headless chromium', () => {
  it('renders four charts without errors or network, and junit.xml parses as XML', async () => {
    const { chromium } = await import('playwright-core');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-report-'));
    dirs.push(dir);
    const files = await writeReport(hostile(noBreaker), dir);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('dialog', (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) problems.push(`network: ${r.url()}`);
      });
      await page.goto(`file://${files['report.html']}`);
      await page.waitForSelector('#c-breakers canvas', { timeout: 10_000 });
      expect(await page.locator('canvas').count()).toBe(4);
      // no hovering: every legend value reads min / max / last (or a total), none '--'
      const legend = await page.locator('.u-legend .u-value').allTextContents();
      expect(legend.length).toBeGreaterThan(8);
      expect(legend.filter((v) => v.trim() === '--' || v.trim() === '')).toEqual([]);
      expect(legend).toContain((chartData(hostile(noBreaker)).legend.latency as Record<string, string>)['p99 corrected']);
      expect(await page.locator('h1 .badge').textContent()).toBe('failed');
      const xml = await readFile(files['junit.xml'], 'utf8');
      const xmlError = await page.evaluate((s) => {
        const doc = new DOMParser().parseFromString(s, 'application/xml');
        return doc.getElementsByTagName('parsererror')[0]?.textContent ?? null;
      }, xml);
      expect(xmlError).toBeNull();
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
