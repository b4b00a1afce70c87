import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { checkRepository } from "./checker.js";
import { Repository } from "./repository.js";
import type { FileType } from "./storage.js";

const KDF = { N: 1024, r: 8, p: 1 };

async function repositoryWithSnapshots(storage: DirStorage, n: number): Promise<{ repo: Repository; ids: string[] }> {
  const repo = await Repository.init(storage, "pw", { kdf: KDF });
  const tree = await repo.saveBlob("tree", Buffer.from('{"nodes":[]}\n'));
  await repo.flush();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await repo.saveUnpacked("snapshots", JSON.stringify({ time: `2024-01-0${i + 1}T00:00:00Z`, tree: tree.id, paths: ["/x"], hostname: "h" })));
  }
  return { repo, ids };
}

describe("check: snapshots removed while it runs", () => {
  it("reports a snapshot forgotten after the caller listed it as gone, not as damage", async () => {
    const storage = new DirStorage(await mkdtemp(path.join(os.tmpdir(), "repo-check-gone-")));
    const { repo, ids } = await repositoryWithSnapshots(storage, 3);
    const [kept, forgottenBefore, forgottenDuring] = ids as [string, string, string];
    // Removed before the check listed the folder (after its caller did).
    await repo.deleteSnapshot(forgottenBefore);
    // Removed between the check's own listing and its reading of the file (another run's retention).
    const racing = Object.assign(Object.create(storage) as DirStorage, {
      load: async (type: FileType, name: string, range?: { offset: number; length: number }) => {
        if (type === "snapshots" && name === forgottenDuring) await storage.remove("snapshots", name);
        return storage.load(type, name, range);
      },
    });
    const checking = await Repository.open(racing, "pw");
    const report = await checkRepository(checking, { snapshots: [kept, forgottenBefore, forgottenDuring] as never });
    const byId = new Map(report.snapshots.map((s) => [s.id, s]));
    expect(byId.get(kept as never)).toMatchObject({ ok: true });
    expect(byId.get(forgottenBefore as never)).toMatchObject({ ok: false, gone: true });
    expect(byId.get(forgottenDuring as never)).toMatchObject({ ok: false, gone: true });
    expect(report.errors).toEqual([]);
  });

  it("a snapshot file that cannot be read for another reason stays a finding", async () => {
    const storage = new DirStorage(await mkdtemp(path.join(os.tmpdir(), "repo-check-bad-")));
    const { ids } = await repositoryWithSnapshots(storage, 1);
    const broken = Object.assign(Object.create(storage) as DirStorage, {
      load: async (type: FileType, name: string, range?: { offset: number; length: number }) => {
        const bytes = await storage.load(type, name, range);
        if (type === "snapshots") bytes[bytes.length - 1]! ^= 0xff;
        return bytes;
      },
    });
    const report = await checkRepository(await Repository.open(broken, "pw"), { snapshots: ids as never });
    expect(report.snapshots[0]).toMatchObject({ ok: false });
    expect(report.snapshots[0]!.gone).toBeUndefined();
    expect(report.errors.map((e) => e.file)).toContain(`snapshots/${ids[0]}`);
  });
});
