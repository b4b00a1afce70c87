// SHA-256 of a whole file, taken by a helper process that reads the file by itself (`openssl dgst`), so that the
// hashing runs on another core beside the reader's work instead of on its thread. A restore from a folder on this
// machine hashes every stored byte (to match the snapshot's manifest); on its main thread that was ~0.6 s of a ~4.5 s
// restore of 1 GiB (docs/performance.md). Only where a second read of the file is cheap (helperSuits). The helper gets
// a descriptor of its own as its stdin (the caller checks it is the file it reads), a minimal environment (no secret
// of ours reaches it) and no arguments but the digest's name. Where no helper can run or its answer is not a digest,
// the caller hashes the file itself (digestOpenFile): the check is never skipped, only moved.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { type FileHandle, statfs } from "node:fs/promises";
import os from "node:os";
import { whichOnPath } from "./which.js";

/** A digest being taken by a helper process. */
export interface HelperDigest {
  /** The hex SHA-256, or undefined when the helper failed (the caller then hashes the file itself). */
  readonly digest: Promise<string | undefined>;
  /** Stops the helper (the read was abandoned). */
  cancel(): void;
}

/**
 * File systems whose second reader costs a second transfer (network, FUSE mounts such as rclone mount or sshfs, VM
 * shares): statfs f_type magic numbers from Linux's magic.h and the clients' sources.
 */
const REMOTE_FS = new Set([
  0x6969, // nfs
  0x517b, // smb
  0xff534d42, // cifs
  0xfe534d42, // smb2
  0x65735546, // fuse
  0x01021997, // 9p (v9fs)
  0x00c36400, // ceph
  0x5346414f, // afs
  0x6b414653, // kafs
  0x73757245, // coda
  0x564c, // ncp
  0x6a656a63, // virtiofs
  0x01161970, // gfs2
  0x0bd00bd0, // lustre
]);

/** What decides whether a second reader of a file is cheap. */
export interface DigestPlace {
  platform: NodeJS.Platform;
  /** The file's size. */
  size: number;
  /** Memory available for the page cache (os.freemem(): MemAvailable on Linux). */
  available: number;
  /** statfs f_type of the file's file system, when known. */
  fsType?: number;
}

/**
 * A helper reads the file a second time, beside its reader: worth it only where that second read costs no second
 * transfer — on Linux (where the file system can be told), on a file system of this machine, and for a file that fits
 * in the page cache twice over, so that the reader finds the pages the helper read ahead of it (a larger one on a
 * small machine would be read from the disk twice).
 */
export function helperSuits(p: DigestPlace): boolean {
  if (p.platform !== "linux" || p.fsType === undefined || REMOTE_FS.has(p.fsType)) return false;
  return p.size * 2 <= p.available;
}

/** helperSuits for a file on this machine (its file system asked with statfs); false when that cannot be told. */
export async function helperSuitsFile(file: string, size: number): Promise<boolean> {
  if (process.platform !== "linux") return false;
  const fsType = await statfs(file).then(
    (st) => st.type,
    () => undefined,
  );
  return helperSuits({ platform: process.platform, size, available: os.freemem(), ...(fsType !== undefined ? { fsType } : {}) });
}

let openssl: Promise<string | undefined> | undefined;

/** openssl on PATH (looked up once per process). */
function findOpenssl(): Promise<string | undefined> {
  openssl ??= whichOnPath(process.platform === "win32" ? "openssl.exe" : "openssl", process.env.PATH);
  return openssl;
}

/** Forgets the openssl lookup (tests change PATH). */
export function resetDigestHelper(): void {
  openssl = undefined;
}

/**
 * Starts hashing the file open at `fd` (a descriptor of its own, at offset 0, that nothing else reads) in a helper
 * process; undefined when no helper is available (`WORKSPACE_SYNC_HASH_INLINE=1` turns it off). The caller keeps `fd`
 * open until `digest` settles.
 */
export async function digestInHelper(fd: number): Promise<HelperDigest | undefined> {
  if (process.env.WORKSPACE_SYNC_HASH_INLINE) return undefined;
  const bin = await findOpenssl();
  if (!bin) return undefined;
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(bin, ["dgst", "-sha256"], {
      stdio: [fd, "pipe", "ignore"],
      env: { PATH: process.env.PATH ?? "", LC_ALL: "C", ...(process.env.SystemRoot ? { SystemRoot: process.env.SystemRoot } : {}) },
      windowsHide: true,
    });
  } catch {
    return undefined;
  }
  const digest = new Promise<string | undefined>((resolve) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      if (out.length < 4096) out += s;
    });
    child.on("error", () => resolve(undefined));
    // Stopped or failed: no digest, without waiting for the pipe (a child of the helper may still hold it).
    child.on("exit", (code, signal) => {
      if (code !== 0 || signal) resolve(undefined);
    });
    // "SHA2-256(stdin)= <hex>" (OpenSSL 3), "(stdin)= <hex>" (1.1, LibreSSL): the one 64-digit hex run is the digest.
    child.on("close", (code) => {
      const found = out.match(/(?:^|[^0-9a-f])([0-9a-f]{64})(?![0-9a-f])/i);
      resolve(code === 0 && found ? found[1]!.toLowerCase() : undefined);
    });
  });
  return {
    digest,
    cancel: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** SHA-256 of an open file, read here with positions (the helper's fallback; ~1.3 GB/s on this machine). */
export async function digestOpenFile(file: FileHandle, chunk = 1 << 20): Promise<string> {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafeSlow(chunk);
  for (let pos = 0; ; ) {
    const { bytesRead } = await file.read(buf, 0, chunk, pos);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest("hex");
}
