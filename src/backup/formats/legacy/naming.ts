// The older plugin's snapshot names, exactly: `backup-YYYYMMDDTHHMMSSZ.tar.gz` or `.tar.gz.enc` (openssl). Nothing
// else is a legacy snapshot (`backup-family-photos.tar.gz` is foreign, an archive snapshot has a random suffix).
import { parseStamp } from "../../stamp.js";

const LEGACY = /^backup-(\d{8}T\d{6}Z)\.tar\.gz(\.enc)?$/;

export interface LegacyName {
  name: string;
  time: Date;
  encrypted: boolean;
}

export function parseLegacyName(name: string): LegacyName | undefined {
  const m = LEGACY.exec(name);
  if (!m) return undefined;
  const time = parseStamp(m[1]!);
  if (Number.isNaN(time.getTime())) return undefined;
  return { name, time, encrypted: !!m[2] };
}
