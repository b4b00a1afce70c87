// A tar stream as a restore source: a pull parser of ustar, GNU (long names, base-256 numbers) and pax (per-entry
// and global records, nanosecond times, sizes of 8 GiB and more) — what our tar writer, GNU tar and node-tar write.
// Sequential: an entry's content is a view of the stream, read (or skipped) before the next header. File contents
// are handed out as views of the decoded chunks, without a copy.
//
// Strict where it matters: a header with a wrong checksum, a number that is not one, a stream that ends inside an
// entry or before the end-of-archive marker is an error (the archive is corrupt or cut), never a short restore.
// After the end-of-archive marker the rest of the stream is read to its end, so a checksum over the whole stored
// object (the manifest's SHA-256) still sees every byte.
import { ByteReader } from "./byte-reader.js";
import { parseDecimalTime, type RestoreEntry, type RestoreSource, type Time } from "./entry.js";

const BLOCK = 512;
/** pax and GNU long-name records larger than this are refused (node-tar's limit too). */
const MAX_META = 1024 * 1024;

export class TarFormatError extends Error {
  constructor(message: string) {
    super(`corrupt archive: ${message}`);
    this.name = "TarFormatError";
  }
}

/** Extended attributes of the next entry (pax "x", GNU "L"/"K") or of all later ones (pax "g"). */
interface Extended {
  path?: string;
  linkpath?: string;
  size?: number;
  mtime?: Time;
  atime?: Time;
  uid?: number;
  gid?: number;
  sparse?: boolean;
}

const cString = (b: Buffer, start: number, end: number): string => {
  const nul = b.indexOf(0, start);
  return b.toString("utf8", start, nul >= 0 && nul < end ? nul : end);
};

/** An octal field (NUL/space terminated) or a base-256 one (GNU, high bit set); undefined when empty. */
function numberField(b: Buffer, start: number, len: number, what: string): number | undefined {
  const first = b[start]!;
  if (first & 0x80) {
    // Big-endian two's complement over the field; 0x80 marks a positive value, 0xff a negative one.
    let value = BigInt(first & 0x7f);
    for (let i = start + 1; i < start + len; i++) value = (value << 8n) | BigInt(b[i]!);
    if (first === 0xff) value -= 1n << BigInt(8 * len - 1);
    else if (first !== 0x80) throw new TarFormatError(`the ${what} field of a header is not a number`);
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new TarFormatError(`the ${what} field is out of range`);
    return n;
  }
  const text = b.toString("latin1", start, start + len).replace(/[\0 ]+$/, "").replace(/^[ ]+/, "");
  if (text === "") return undefined;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`the ${what} field of a header is not a number`);
  return parseInt(text, 8);
}

function checksumOk(b: Buffer): boolean {
  const stored = numberField(b, 148, 8, "checksum");
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += b[i]!;
    signed += (b[i]! << 24) >> 24;
  }
  return stored === unsigned || stored === signed;
}

const isZero = (b: Buffer): boolean => {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
};

/** pax records: "<length> <key>=<value>\n", the length counting the whole record (values may hold newlines). */
function parsePax(data: Buffer, into: Extended): Extended {
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number(data.toString("latin1", pos, space));
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > data.length) throw new TarFormatError("malformed pax record");
    const record = data.toString("utf8", space + 1, pos + len - 1);
    pos += len;
    const eq = record.indexOf("=");
    if (eq < 0) continue;
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    switch (key) {
      case "path":
      case "linkpath":
        into[key] = value;
        break;
      case "size":
      case "uid":
      case "gid": {
        const n = Number(value);
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new TarFormatError(`pax ${key} "${value}" is not a number`);
        into[key] = n;
        break;
      }
      case "mtime":
      case "atime": {
        const t = parseDecimalTime(value);
        if (t) into[key] = t;
        break;
      }
      default:
        if (key.startsWith("GNU.sparse.")) into.sparse = true;
    }
  }
  return into;
}

const KINDS: Record<string, string> = { "3": "character device", "4": "block device", "6": "fifo", S: "sparse file", D: "GNU dump folder" };

/**
 * Reads a tar stream as restore entries (sequential: read or leave each content before pulling the next). The
 * caller owns the stream: when the consumer stops early (a refused disk, an abort) the source leaves it as it is,
 * and the caller destroys it with the error that stopped the restore.
 */
export function tarSource(stream: AsyncIterable<Buffer>): RestoreSource {
  return { entries: tarEntries(stream), sequential: true };
}

async function* tarEntries(stream: AsyncIterable<Buffer>): AsyncGenerator<RestoreEntry> {
  const reader = new ByteReader(stream);
  let global: Extended = {};
  let next: Extended = {};
  for (;;) {
    const block = await reader.exact(BLOCK);
    if (!block) throw new TarFormatError("the archive is cut short (no end-of-archive marker)");
    if (isZero(block)) break;
    if (!checksumOk(block)) throw new TarFormatError(`header checksum mismatch at byte ${reader.offset - BLOCK}`);
    const flag = block[156] === 0 ? "0" : String.fromCharCode(block[156]!);
    const headerSize = numberField(block, 124, 12, "size") ?? 0;

    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (headerSize > MAX_META) throw new TarFormatError(`a ${headerSize}-byte metadata record`);
      const data = await reader.exact(headerSize);
      if (!data || (await reader.skip(pad(headerSize))) !== pad(headerSize)) throw cut("a metadata record");
      if (flag === "x") next = parsePax(data, next);
      else if (flag === "g") global = parsePax(data, { ...global });
      else if (flag === "L") next.path = cString(data, 0, data.length);
      else next.linkpath = cString(data, 0, data.length);
      continue;
    }

    const ext: Extended = { ...global, ...next, path: next.path, linkpath: next.linkpath };
    next = {};
    let name = ext.path;
    if (name === undefined) {
      name = cString(block, 0, 100);
      if (block.toString("latin1", 257, 265) === "ustar\x0000") {
        const prefix = block[475] !== 0 ? cString(block, 345, 500) : cString(block, 345, 475);
        if (prefix) name = `${prefix}/${name}`;
      }
    }
    let size = ext.size ?? headerSize;
    const headerMtime = numberField(block, 136, 12, "mtime");
    const entry: RestoreEntry = {
      path: name,
      type: "other",
      mode: numberField(block, 100, 8, "mode") ?? 0o644,
      mtime: ext.mtime ?? (headerMtime === undefined ? undefined : { sec: headerMtime, nsec: 0 }),
      atime: ext.atime,
      uid: ext.uid ?? numberField(block, 108, 8, "uid"),
      gid: ext.gid ?? numberField(block, 116, 8, "gid"),
      size: 0,
    };
    const linkTarget = ext.linkpath ?? cString(block, 157, 257);
    switch (flag) {
      case "0":
      case "7":
        if (name.endsWith("/")) {
          entry.type = "dir";
          size = 0;
        } else if (ext.sparse) entry.kind = "sparse file";
        else entry.type = "file";
        break;
      case "1":
        entry.type = "hardlink";
        entry.linkTarget = linkTarget;
        break;
      case "2":
        entry.type = "symlink";
        entry.linkTarget = linkTarget;
        break;
      case "5":
        entry.type = "dir";
        size = 0;
        break;
      case "V":
        // A GNU volume label: nothing to restore.
        await skipBody(reader, size, name);
        continue;
      default:
        entry.kind = KINDS[flag] ?? `tar type '${flag}'`;
    }

    const body = { remain: size, reading: false, stale: false };
    if (entry.type === "file") {
      entry.size = size;
      entry.content = content(reader, body, name);
    }
    yield entry;
    if (body.reading) throw new Error(`the next entry was pulled while ${name} was still being read`);
    body.stale = true;
    await skipBody(reader, body.remain, name, size);
  }
  // The end-of-archive marker: read the rest (the second zero block, record padding) to the end of the stream.
  while (await reader.piece(Number.MAX_SAFE_INTEGER));
}

const pad = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
const cut = (what: string) => new TarFormatError(`the archive ends inside ${what}`);

async function skipBody(reader: ByteReader, remain: number, name: string, size = remain): Promise<void> {
  const n = remain + pad(size);
  if ((await reader.skip(n)) !== n) throw cut(name);
}

async function* content(reader: ByteReader, body: { remain: number; reading: boolean; stale: boolean }, name: string): AsyncGenerator<Buffer> {
  if (body.stale) throw new Error(`${name}: its content was left, and the stream has moved on`);
  while (body.remain > 0) {
    body.reading = true;
    const piece = await reader.piece(body.remain);
    body.reading = false;
    if (!piece) throw cut(name);
    body.remain -= piece.length;
    yield piece;
    if (body.stale) throw new Error(`${name}: its content was left, and the stream has moved on`);
  }
}
