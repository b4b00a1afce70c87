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
  const sorted = <K>(m: Map<K, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: (p.endTime - p.startTime) / 1000,
    idleMs: idle,
    gcMs: gc,
    byFunction: sorted(fn).map(([name, ms]) => ({ name, ms })),
    byFile: sorted(files).map(([file, ms]) => ({ file, ms })),
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
}
