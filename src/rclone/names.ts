// rclone shows a name in its own standard form (listings, --files-from, log lines): control characters become
// Unicode control pictures (a line break is "␊") and a control picture that is really part of the name is quoted
// with "‛". On the local disk the name keeps its real characters. The drain and the ingest compare a staged file
// (disk name) with its listed source (rclone name), so they translate disk names with this.
const QUOTE = "\u201b";

export function rcloneName(diskName: string): string {
  let out = "";
  for (const ch of diskName) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20) out += String.fromCodePoint(0x2400 + c);
    else if (c === 0x7f) out += "\u2421";
    else if (c >= 0x2400 && c <= 0x2421) out += QUOTE + ch;
    else out += ch;
  }
  return out;
}
