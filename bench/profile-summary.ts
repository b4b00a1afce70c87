// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per source file, and the idle share,
// so a profile can be read without a browser. Usage: node bench/profile-summary.ts FILE.cpuprofile [top]
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  gcMs: number;
  byFunction: { name: string; ms: number }[];
  byFile: { file: string; ms: number }[];
  /** Per function name: CPU while on the stack (inclusive), and when it was first and last seen (ms from start). */
  spans: Map<string, { inclusiveMs: number; firstMs: number; lastMs: number }>;
}

export function summarise(file: string): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, ms] of self) {
    const f = nodes.get(id)!.callFrame;
    if (f.functionName === "(idle)") idle += ms;
    if (f.functionName === "(garbage collector)") gc += ms;
    const short = f.url.replace(/^.*\/(node_modules\/|dist\/|src\/)/, "$1") || "(native)";
    const key = `${f.functionName || "(anonymous)"} ${short}:${f.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    files.set(short, (files.get(short) ?? 0) + ms);
  }
  // Inclusive time and first/last sighting per function name: walk each sample's stack once.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const spans = new Map<string, { inclusiveMs: number; firstMs: number; lastMs: number }>();
  let at = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    at += ms;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = nodes.get(cur)!.callFrame.functionName;
      if (!name || seen.has(name)) continue;
      seen.add(name);
      const span = spans.get(name) ?? { inclusiveMs: 0, firstMs: at, lastMs: at };
      span.inclusiveMs += ms;
      span.lastMs = at;
      spans.set(name, span);
    }
  });
  const sorted = <K>(m: Map<K, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: (p.endTime - p.startTime) / 1000,
    idleMs: idle,
    gcMs: gc,
    byFunction: sorted(fn).map(([name, ms]) => ({ name, ms })),
    byFile: sorted(files).map(([file, ms]) => ({ file, ms })),
    spans,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = summarise(process.argv[2]!);
  const top = Number(process.argv[3] ?? 25);
  console.log(`total ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms, gc ${s.gcMs.toFixed(0)} ms`);
  console.log("-- by function (self)");
  for (const r of s.byFunction.slice(0, top)) console.log(`${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`);
  console.log("-- by file (self)");
  for (const r of s.byFile.slice(0, top)) console.log(`${r.ms.toFixed(0).padStart(7)} ms  ${r.file}`);
  const names = process.argv[4]?.split(",") ?? [];
  if (names.length) console.log("-- spans (inclusive CPU, first..last seen)");
  for (const n of names) {
    const sp = s.spans.get(n);
    console.log(`${n.padEnd(28)} ${sp ? `${sp.inclusiveMs.toFixed(0).padStart(6)} ms  ${sp.firstMs.toFixed(0)}..${sp.lastMs.toFixed(0)} ms` : "not seen"}`);
  }
}
