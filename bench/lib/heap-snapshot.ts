/**
 * Reading V8 heap snapshots (`v8.writeHeapSnapshot()`, the .heapsnapshot JSON) for the stream
 * memory tool: self sizes grouped by what a node is (a constructor's name, a closure's function
 * name, "string", "code"…), the difference of two such groupings per open stream, and who
 * retains the nodes of one group. Pure: no I/O beyond the text it is given.
 */

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface GroupSize {
  count: number;
  bytes: number;
}

/** Group name → how many nodes and their summed self size. */
export type HeapGroups = Map<string, GroupSize>;

/** Node types whose name is their content (strings) or meaningless per object (numbers, code). */
const BY_TYPE_ONLY = new Set(["string", "concatenated string", "sliced string", "number", "code", "bigint", "symbol"]);

/** The group a node counts in: `Name` for objects, `Name()` for closures, `(type) name` for the rest. */
function groupOf(type: string, name: string): string {
  if (BY_TYPE_ONLY.has(type)) return `(${type})`;
  if (type === "object") return name;
  if (type === "closure") return `${name || "(anonymous)"}()`;
  return `(${type}) ${name.length > 60 ? `${name.slice(0, 57)}...` : name}`;
}

/** A parsed snapshot, with the field offsets the other functions need. */
export class HeapSnapshot {
  private readonly json: SnapshotJson;
  private readonly nodeWidth: number;
  private readonly typeAt: number;
  private readonly nameAt: number;
  private readonly sizeAt: number;
  private readonly edgeCountAt: number;
  private readonly edgeWidth: number;
  private readonly edgeTypeAt: number;
  private readonly edgeNameAt: number;
  private readonly edgeToAt: number;

  constructor(text: string) {
    this.json = JSON.parse(text) as SnapshotJson;
    const meta = this.json.snapshot.meta;
    this.nodeWidth = meta.node_fields.length;
    this.typeAt = meta.node_fields.indexOf("type");
    this.nameAt = meta.node_fields.indexOf("name");
    this.sizeAt = meta.node_fields.indexOf("self_size");
    this.edgeCountAt = meta.node_fields.indexOf("edge_count");
    this.edgeWidth = meta.edge_fields.length;
    this.edgeTypeAt = meta.edge_fields.indexOf("type");
    this.edgeNameAt = meta.edge_fields.indexOf("name_or_index");
    this.edgeToAt = meta.edge_fields.indexOf("to_node");
  }

  /** Self sizes of every node, by group. */
  groups(): HeapGroups {
    const { nodes, strings } = this.json;
    const types = this.json.snapshot.meta.node_types[0];
    const out: HeapGroups = new Map();
    for (let i = 0; i < nodes.length; i += this.nodeWidth) {
      const key = groupOf(types[nodes[i + this.typeAt]], strings[nodes[i + this.nameAt]]);
      const g = out.get(key);
      if (g === undefined) out.set(key, { count: 1, bytes: nodes[i + this.sizeAt] });
      else {
        g.count++;
        g.bytes += nodes[i + this.sizeAt];
      }
    }
    return out;
  }

  /**
   * For the nodes of `group`: the chains that hold them, `depth` retainers up, by count (each
   * node's first strong retainer in the snapshot's order, which V8 writes breadth-first from
   * the roots, so usually the shortest path). Read as "held by … held by …".
   */
  retainerChains(group: string, depth = 4): Map<string, number> {
    const { nodes, edges, strings } = this.json;
    const types = this.json.snapshot.meta.node_types[0];
    const edgeTypes = this.json.snapshot.meta.edge_types[0];
    const nodeCount = nodes.length / this.nodeWidth;
    const retainer = new Int32Array(nodeCount).fill(-1);
    const viaEdge = new Int32Array(nodeCount).fill(-1);
    let edge = 0;
    for (let n = 0; n < nodeCount; n++) {
      const count = nodes[n * this.nodeWidth + this.edgeCountAt];
      for (let e = 0; e < count; e++, edge += this.edgeWidth) {
        const to = edges[edge + this.edgeToAt] / this.nodeWidth;
        if (retainer[to] !== -1 || to === n) continue;
        if (edgeTypes[edges[edge + this.edgeTypeAt]] === "weak") continue;
        retainer[to] = n;
        viaEdge[to] = edge;
      }
    }
    const nameOf = (n: number) => groupOf(types[nodes[n * this.nodeWidth + this.typeAt]], strings[nodes[n * this.nodeWidth + this.nameAt]]);
    const edgeNameOf = (e: number) => {
      const type = edgeTypes[edges[e + this.edgeTypeAt]];
      const value = edges[e + this.edgeNameAt];
      return type === "element" || type === "hidden" ? `[${value}]` : strings[value];
    };
    const out = new Map<string, number>();
    for (let n = 0; n < nodeCount; n++) {
      if (nameOf(n) !== group) continue;
      let chain = group;
      let at = n;
      for (let d = 0; d < depth && retainer[at] !== -1; d++) {
        chain += ` <-.${edgeNameOf(viaEdge[at])}- ${nameOf(retainer[at])}`;
        at = retainer[at];
      }
      out.set(chain, (out.get(chain) ?? 0) + 1);
    }
    return out;
  }
}

export interface GroupDelta {
  group: string;
  /** Nodes more per stream (may be fractional or negative). */
  countPerStream: number;
  bytesPerStream: number;
}

/** What `after` holds beyond `before`, per stream, largest first. */
export function perStreamDelta(before: HeapGroups, after: HeapGroups, streams: number): GroupDelta[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  const out: GroupDelta[] = [];
  for (const group of names) {
    const a = before.get(group) ?? { count: 0, bytes: 0 };
    const b = after.get(group) ?? { count: 0, bytes: 0 };
    out.push({ group, countPerStream: (b.count - a.count) / streams, bytesPerStream: (b.bytes - a.bytes) / streams });
  }
  return out.sort((x, y) => y.bytesPerStream - x.bytesPerStream);
}

/** A markdown table of the largest groups (rows under `minBytes` per stream left out). */
export function renderDelta(rows: readonly GroupDelta[], limit = 40, minBytes = 8): string {
  const shown = rows.filter((r) => Math.abs(r.bytesPerStream) >= minBytes).slice(0, limit);
  const total = rows.reduce((sum, r) => sum + r.bytesPerStream, 0);
  const lines = ["| what (constructor, closure(), (type) name) | objects per stream | bytes per stream |", "|---|---:|---:|"];
  for (const r of shown) lines.push(`| \`${r.group.replace(/\|/g, "\\|").replace(/`/g, "'")}\` | ${r.countPerStream.toFixed(2)} | ${Math.round(r.bytesPerStream)} |`);
  lines.push(`| **all of the snapshot** | ${rows.reduce((s, r) => s + r.countPerStream, 0).toFixed(1)} | **${Math.round(total)}** |`);
  return lines.join("\n");
}
