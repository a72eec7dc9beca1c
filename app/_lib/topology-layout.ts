/**
 * A system's edges laid out as a left-to-right graph (pure): each node in
 * the column of its longest path from a node nothing calls (the entry side),
 * the nodes of a column ordered by their callers' rows (fewer crossings),
 * edges from box side to box side. A cycle (a→b→a) is cut where it closes,
 * so every node gets one column.
 *
 *   gateway ──▶ orders ──▶ payments
 *          └──▶ catalog ─┴──▶ postgres
 */
export interface TTopoEdge {
  name: string;
  from: string;
  to: string;
}

export interface TTopoLayout {
  width: number;
  height: number;
  nodes: { name: string; x: number; y: number; w: number; h: number; column: number }[];
  edges: { name: string; from: string; to: string; x1: number; y1: number; x2: number; y2: number }[];
}

const BOX = { w: 128, h: 30, colGap: 64, rowGap: 14, pad: 8 };

/** The column of every node: its longest path from a root (cycles cut where they close). */
export function columnsOf(edges: readonly TTopoEdge[]): Map<string, number> {
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const called = new Set(edges.map((e) => e.to));
  // roots: nothing calls them; when every node is called (one big cycle), the first by name
  const roots = nodes.filter((n) => !called.has(n));
  if (roots.length === 0 && nodes.length) roots.push(nodes[0]!);
  const column = new Map<string, number>();
  const visit = (n: string, depth: number, path: Set<string>) => {
    if (path.has(n)) return; // a cycle closes here
    if ((column.get(n) ?? -1) >= depth) return;
    column.set(n, depth);
    path.add(n);
    for (const m of out.get(n) ?? []) visit(m, depth + 1, path);
    path.delete(n);
  };
  for (const r of roots) visit(r, 0, new Set());
  // nodes only reachable through a cut cycle
  for (const n of nodes) if (!column.has(n)) visit(n, 0, new Set());
  return column;
}

/**
 * Nodes of each column, ordered to cross fewer edges: the first column by name, every later one
 * by the mean row of the nodes calling it (its callers' barycentre), ties by name.
 */
function orderedColumns(edges: readonly TTopoEdge[], column: Map<string, number>): Map<number, string[]> {
  const byColumn = new Map<number, string[]>();
  for (const [n, c] of [...column].sort(([a], [b]) => a.localeCompare(b))) byColumn.set(c, [...(byColumn.get(c) ?? []), n]);
  const row = new Map<string, number>();
  for (const c of [...byColumn.keys()].sort((a, b) => a - b)) {
    const names = byColumn.get(c)!;
    const centre = (n: string) => {
      const rows = edges.filter((e) => e.to === n && row.has(e.from)).map((e) => row.get(e.from)!);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.POSITIVE_INFINITY;
    };
    const sorted = c === 0 ? names : [...names].sort((a, b) => centre(a) - centre(b) || a.localeCompare(b));
    // rows as fractions of the column, so columns of different heights compare
    sorted.forEach((n, i) => row.set(n, (i + 0.5) / sorted.length));
    byColumn.set(c, sorted);
  }
  return byColumn;
}

export function layoutTopology(edges: readonly TTopoEdge[]): TTopoLayout {
  const column = columnsOf(edges);
  const byColumn = orderedColumns(edges, column);
  const rows = Math.max(0, ...[...byColumn.values()].map((l) => l.length));
  const height = BOX.pad * 2 + rows * BOX.h + Math.max(0, rows - 1) * BOX.rowGap;
  const nodes: TTopoLayout['nodes'] = [];
  for (const [c, names] of byColumn) {
    // each column centred vertically
    const colHeight = names.length * BOX.h + (names.length - 1) * BOX.rowGap;
    const top = (height - colHeight) / 2;
    names.forEach((name, i) => nodes.push({ name, column: c, x: BOX.pad + c * (BOX.w + BOX.colGap), y: top + i * (BOX.h + BOX.rowGap), w: BOX.w, h: BOX.h }));
  }
  const at = new Map(nodes.map((n) => [n.name, n]));
  const columns = byColumn.size ? Math.max(...byColumn.keys()) + 1 : 0;
  return {
    width: BOX.pad * 2 + columns * BOX.w + Math.max(0, columns - 1) * BOX.colGap,
    height,
    nodes,
    edges: edges.map((e) => {
      const a = at.get(e.from)!;
      const b = at.get(e.to)!;
      // forward: right side to left side; backward or same column: bottom to top
      const forward = b.column > a.column;
      return {
        name: e.name,
        from: e.from,
        to: e.to,
        x1: forward ? a.x + a.w : a.x + a.w / 2,
        y1: forward ? a.y + a.h / 2 : a.y + a.h,
        x2: forward ? b.x : b.x + b.w / 2,
        y2: forward ? b.y + b.h / 2 : b.y,
      };
    }),
  };
}
