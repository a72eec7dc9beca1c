import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors.js';
import { chartData, parseReport, renderHtml, renderJunit, renderSummary, writeReport, type TReport } from '../index.js';
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

describe('junit.xml', () => {
  it('has one test case per SLO, breaker expectation and invariant; failures carry evidence', () => {
    const xml = renderJunit(doubleCharge);
    const cases = xml.match(/<testcase /g) ?? [];
    expect(cases).toHaveLength(doubleCharge.slos.length + doubleCharge.breakers.expectations.length + doubleCharge.invariants.length);
    expect(xml).toMatch(/<testsuites name="faultline" tests="12" failures="1" errors="0"/);
    const failure = /<testcase classname="faultline\.payments-latency\.invariant" name="payment-exactly-once" time="0">\s*<failure type="invariant" message="([^"]*)">([^<]*)<\/failure>/.exec(xml);
    expect(failure?.[1]).toMatch(/^2 violation\(s\): order 9000123 charged 2 times/);
    expect(failure?.[2]).toContain('ids: 9000123, 4411, 4417');
  });

  it('escapes text and drops control characters; an aborted run gets an <error> case', () => {
    const x = hostile(doubleCharge);
    x.verdict = 'aborted';
    x.reason = 'abort: error rate > 90% for 10s <now>';
    const xml = renderJunit(x);
    expect(xml).not.toContain('</script>');
    expect(xml).not.toContain('\u0001');
    expect(xml).toContain('k&lt;&amp;&gt;');
    expect(xml).toMatch(/<testcase classname="faultline\.payments-latency\.run" name="run" time="0">\s*<error type="aborted" message="abort: error rate &gt; 90% for 10s &lt;now&gt;"/);
  });
});

describe('summary.md', () => {
  it('shows verdict, the SLO table side by side, breakers and violations', () => {
    const md = renderSummary(doubleCharge);
    expect(md.split('\n')[0]).toBe('## ❌ payments-latency: failed');
    expect(md).toContain('| | SLO | target | client (corrected) | client (k6-style) | server | budget used | worst burn 1m / 5m |');
    expect(md).toMatch(/\| ✅ \| checkout-latency \| `POST \/checkout` latency ≤ 2500 ms for ≥ 55% \| \*\*\d+\.\d\d%\*\* \| \d+\.\d\d% \| \d+\.\d\d% \|/);
    expect(md).toMatch(/\| ✅ \| `orders->payments` \| payments-slow \| [12]\.\d s \|/);
    expect(md).toContain('- `double-capture` order 9000123 charged 2 times: payments 4411, 4417 — ids `9000123`, `4411`, `4417`');
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
    expect(data.lanes.map((l: { label: string }) => l.label)).toEqual(['orders->payments · orders-0', 'orders->payments · orders-1']);
    expect(html).toContain('did not open during payments-slow');
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

  it('refuses an invalid report naming the field', async () => {
    const bad = { ...doubleCharge, schemaVersion: 2 } as unknown as TReport;
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
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
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
