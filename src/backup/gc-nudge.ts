// Prototype
import v8 from "node:v8";
import vm from "node:vm";

let gcFn: ((opts?: { type?: "minor" | "major"; execution?: "sync" | "async" }) => void) | undefined | null;

function getGc() {
  if (gcFn !== undefined) return gcFn;
  try {
    v8.setFlagsFromString("--expose-gc");
    gcFn = vm.runInNewContext("gc") as typeof gcFn;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

export function gcNudger(everyBytes: number, type: "minor" | "major"): (n: number) => void {
  const gc = process.env.WS_GC ? getGc() : null;
  let since = 0;
  return (n) => {
    if (!gc) return;
    since += n;
    if (since >= everyBytes) {
      since = 0;
      gc({ type });
    }
  };
}
