// Storage-layer throughput of the restic-format repository (`npm run build`, then
// `node bench/repository-store-bench.ts`): Poly1305 (WebAssembly vs @noble/ciphers), AES-256-CTR, seal/open of
// 1 MiB blobs, blob encoding with zstd, and pack writing end to end (saveBlob → packs → flush) to a local folder and
// through `rclone serve restic --stdio` to the local backend. Single core figures, MiB/s.
import { createCipheriv, randomBytes } from "node:crypto";
import os from "node:os";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305.js";
import { machine, saveResults, workDir } from "./lib.ts";

const dist = path.join(import.meta.dirname, "..", "dist", "backup", "formats", "repository");
const { poly1305 } = await import(path.join(dist, "poly1305.js"));
const { newRandomKey, seal, open } = await import(path.join(dist, "crypto.js"));
const { encodeBlob } = await import(path.join(dist, "pack.js"));
const { Repository } = await import(path.join(dist, "repository.js"));
const { DirStorage } = await import(path.join(dist, "backend-dir.js"));
const { RcloneStorage } = await import(path.join(dist, "backend.js"));
const { findRclone } = await import(path.join(import.meta.dirname, "..", "dist", "rclone", "binary.js"));

const MIB = 1 << 20;

function rate(fn: () => void, bytesPerCall: number, ms = 1500): number {
  for (let i = 0; i < 5; i++) fn();
  const t = performance.now();
  let n = 0;
  while (performance.now() - t < ms) {
    fn();
    n++;
  }
  return Math.round((n * bytesPerCall) / MIB / ((performance.now() - t) / 1000));
}

const msg = randomBytes(MIB);
const key32 = randomBytes(32);
const key = newRandomKey();
const text = Buffer.from(Array.from({ length: MIB / 16 }, (_, i) => `line ${i % 977} ok\n`).join("").slice(0, MIB));
const sealed = seal(key, msg);

const figures: Record<string, number> = {
  poly1305_wasm: rate(() => poly1305(key32, msg), MIB),
  poly1305_noble: rate(() => noblePoly1305(msg, key32), MIB),
  aes256ctr_node: rate(() => createCipheriv("aes-256-ctr", key.encrypt, key32.subarray(0, 16)).update(msg), MIB),
  seal_1mib: rate(() => seal(key, msg), MIB),
  open_1mib: rate(() => open(key, sealed), MIB),
  encode_blob_text_zstd3: rate(() => encodeBlob(key, text, true), MIB),
  encode_blob_random_zstd3: rate(() => encodeBlob(key, msg, true), MIB),
};

async function packWrite(kind: "folder" | "rclone"): Promise<number> {
  const root = path.join(workDir, `repo-store-${kind}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  let storage;
  if (kind === "folder") storage = new DirStorage(path.join(root, "repo"));
  else {
    const conf = path.join(root, "rclone.conf");
    writeFileSync(conf, "[local]\ntype = local\n", { mode: 0o600 });
    storage = new RcloneStorage({ bin: await findRclone(), configPath: conf, remotePath: `local:${path.join(root, "repo")}` });
  }
  const repo = await Repository.init(storage, "bench", { kdf: { N: 1024, r: 8, p: 1 } });
  const total = 512 * MIB;
  const t = performance.now();
  for (let i = 0; i < total / MIB; i++) {
    const blob = randomBytes(MIB);
    await repo.saveBlob("data", blob);
  }
  await repo.flush();
  const mibs = Math.round(total / MIB / ((performance.now() - t) / 1000));
  await repo.close();
  rmSync(root, { recursive: true, force: true });
  return mibs;
}

figures.pack_write_folder_random = await packWrite("folder");
figures.pack_write_rclone_local_random = await packWrite("rclone");

const md = [
  "# Repository storage layer throughput (MiB/s, one core)",
  "",
  "| what | MiB/s |",
  "|---|---:|",
  ...Object.entries(figures).map(([k, v]) => `| ${k} | ${v} |`),
  "",
  `Load average during the run: ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")} on ${os.cpus().length} cores (absolute figures scale with it; ratios hold).`,
  `Poly1305: WebAssembly is ${(figures.poly1305_wasm! / figures.poly1305_noble!).toFixed(1)}× @noble/ciphers.`,
  "Pack write = saveBlob of 512 × 1 MiB random blobs (compressibility probe says no, encrypted, MAC), 16 MiB packs, 2 uploads in flight, flush.",
].join("\n");
console.log(md);
saveResults("repository-store", { machine: machine(), figures }, md);
