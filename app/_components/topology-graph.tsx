/** A system's edges drawn as a graph (app/_lib/topology-layout.ts lays it out); each arrow is one edge a fault can target. */
import { layoutTopology, type TTopoEdge } from '../_lib/topology-layout.js';

export function TopologyGraph({ edges, testId }: { edges: readonly TTopoEdge[]; testId?: string }) {
  const l = layoutTopology(edges);
  if (l.nodes.length === 0) return null;
  return (
    <svg
      className="topo-graph"
      viewBox={`0 0 ${l.width} ${l.height}`}
      width={l.width}
      height={l.height}
      role="img"
      aria-label={`topology: ${edges.map((e) => e.name).join(', ')}`}
      data-testid={testId}
    >
      <defs>
        <marker id="topo-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L8,4 L0,8 z" className="topo-arrowhead" />
        </marker>
      </defs>
      {l.edges.map((e) => {
        // a gentle S from side to side (a backward edge bows below the boxes)
        const forward = e.x2 > e.x1;
        const d = forward
          ? `M${e.x1},${e.y1} C${(e.x1 + e.x2) / 2},${e.y1} ${(e.x1 + e.x2) / 2},${e.y2} ${e.x2},${e.y2}`
          : `M${e.x1},${e.y1} C${e.x1},${e.y1 + 24} ${e.x2},${e.y2 - 24} ${e.x2},${e.y2}`;
        return (
          <path key={e.name} d={d} className="topo-edge" markerEnd="url(#topo-arrow)" data-edge={e.name}>
            <title>{e.name}</title>
          </path>
        );
      })}
      {l.nodes.map((n) => (
        <g key={n.name} data-node={n.name}>
          <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={3} className="topo-node" />
          <text x={n.x + n.w / 2} y={n.y + n.h / 2} className="topo-label" dominantBaseline="middle" textAnchor="middle">
            {n.name.length > 18 ? `${n.name.slice(0, 17)}…` : n.name}
          </text>
        </g>
      ))}
    </svg>
  );
}
