/** Self time by function (and by file) of a V8 .cpuprofile: `npx tsx bench/load/top-functions.ts <file> [n=25]`. */
import { readFileSync } from 'node:fs';

interface TNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const [file, n = '25'] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: TNode[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const self = new Map<string, number>();
const byFile = new Map<string, number>();
prof.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = prof.timeDeltas[i] ?? 0;
  const f = node.callFrame;
  const short = f.url.replace(/^.*node_modules\//, 'nm/').replace(/^file:\/\/\/work\/main\//, '');
  const key = `${f.functionName || '(anon)'} ${short}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  const fk = short.replace(/:\d+$/, '') || f.functionName;
  byFile.set(fk, (byFile.get(fk) ?? 0) + dt);
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const show = (m: Map<string, number>) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(n))
    .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`)
    .join('\n');
console.log(`total ${(total / 1000).toFixed(0)} ms sampled\n── self time by function ──\n${show(self)}\n── by file ──\n${show(byFile)}`);
