// time.Time as restic writes and reads it in JSON: RFC 3339 with nanoseconds (Go's RFC3339Nano: trailing zeros of
// the fraction dropped, "Z" for a zero offset), in the zone the time was made in. restic makes file times with
// time.Unix, i.e. in the local zone of the machine, so the offset is part of the tree's bytes.

/** An instant with the UTC offset it is shown in (Go's time.Time minus the zone name, which JSON does not carry). */
export interface GoTime {
  /** Seconds since 1970-01-01T00:00:00Z (a safe integer: any int64 of nanoseconds fits). */
  sec: number;
  /** 0..999999999. */
  nsec: number;
  /** Offset east of UTC in seconds. */
  offset: number;
}

export const GO_ZERO_TIME: GoTime = { sec: -62135596800, nsec: 0, offset: 0 }; // 0001-01-01T00:00:00Z

/** The local zone's offset at an instant, as the process sees it (TZ or /etc/localtime, like Go's time.Local). */
export function localOffsetAt(sec: number): number {
  const clamped = Math.max(-8_000_000_000_000, Math.min(8_000_000_000_000, sec)); // JS Date's range
  return Math.round(-new Date(clamped * 1000).getTimezoneOffset() * 60);
}

/** time.Unix(0, ns) in the local zone (or UTC), as restic builds node times from stat. */
export function goTimeFromNs(ns: bigint, zone: "local" | "utc" = "local"): GoTime {
  let sec = Number(ns / 1_000_000_000n);
  let nsec = Number(ns % 1_000_000_000n);
  if (nsec < 0) {
    nsec += 1_000_000_000;
    sec -= 1;
  }
  return { sec, nsec, offset: zone === "local" ? localOffsetAt(sec) : 0 };
}

export function goTimeToNs(t: GoTime): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
}

// Civil date <-> days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithms).
function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function wallClock(t: GoTime): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const local = t.sec + t.offset;
  const days = Math.floor(local / 86400);
  const secOfDay = local - days * 86400;
  const [y, mo, d] = civilFromDays(days);
  return { y, mo, d, h: Math.floor(secOfDay / 3600), mi: Math.floor((secOfDay % 3600) / 60), s: secOfDay % 60 };
}

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/**
 * restic's FixTime: a year outside 0..9999 (which Go cannot marshal) is moved to 0 or 9999 with AddDate, keeping the
 * rest of the wall clock (Feb 29 of a non-leap year rolls over to Mar 1, as Go normalizes).
 */
export function fixTime(t: GoTime, zone: "local" | "fixed" = "fixed"): GoTime {
  const local = t.sec + t.offset;
  if (local >= -62167219200 && local < 253402300800) return t; // 0000-01-01 .. 9999-12-31 (the usual case)
  const w = wallClock(t);
  if (w.y >= 0 && w.y <= 9999) return t;
  const y = w.y < 0 ? 0 : 9999;
  const days = daysFromCivil(y, w.mo, 1) + (w.d - 1); // day overflow rolls into the next month like Go's Date
  const wallSec = days * 86400 + w.h * 3600 + w.mi * 60 + w.s;
  let sec = wallSec - t.offset;
  let offset = t.offset;
  if (zone === "local") {
    offset = localOffsetAt(sec);
    sec = wallSec - offset;
  }
  return { sec, nsec: t.nsec, offset };
}

/** Go's t.Format(time.RFC3339Nano). Go only prints hours and minutes of the offset. */
export function formatRfc3339Nano(t: GoTime): string {
  const w = wallClock(t);
  let frac = "";
  if (t.nsec !== 0) frac = `.${pad(t.nsec, 9).replace(/0+$/, "")}`;
  let zone = "Z";
  if (t.offset !== 0) {
    const minutes = Math.trunc(t.offset / 60);
    const abs = Math.abs(minutes);
    zone = `${minutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
  }
  return `${pad(w.y, 4)}-${pad(w.mo, 2)}-${pad(w.d, 2)}T${pad(w.h, 2)}:${pad(w.mi, 2)}:${pad(w.s, 2)}${frac}${zone}`;
}

export class GoTimeError extends Error {
  constructor(readonly text: string) {
    super(`invalid RFC 3339 time ${JSON.stringify(text)}`);
    this.name = "GoTimeError";
  }
}

/** The number in `count` decimal digits at `from`, or -1 when one of them is not a digit. */
function digitsAt(text: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Go's time.Parse(time.RFC3339, s) as time.Time.UnmarshalJSON uses it (fraction optional, up to 9 digits). */
export function parseRfc3339(text: string): GoTime {
  // Hand-written, without regex, arrays or closures: trees hold three times per node.
  const n = text.length;
  if (n < 20) throw new GoTimeError(text);
  const y = digitsAt(text, 0, 4);
  const mo = digitsAt(text, 5, 2);
  const d = digitsAt(text, 8, 2);
  const h = digitsAt(text, 11, 2);
  const mi = digitsAt(text, 14, 2);
  const s = digitsAt(text, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) throw new GoTimeError(text);
  if (text[4] !== "-" || text[7] !== "-" || text[10] !== "T" || text[13] !== ":" || text[16] !== ":") throw new GoTimeError(text);
  let i = 19;
  let nsec = 0;
  if (text[i] === ".") {
    let k = 0;
    i++;
    while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) {
      if (++k > 9) throw new GoTimeError(text);
      nsec = nsec * 10 + (text.charCodeAt(i) - 48);
      i++;
    }
    if (k === 0) throw new GoTimeError(text);
    for (; k < 9; k++) nsec *= 10;
  }
  let offset = 0;
  if (text[i] === "Z" && i + 1 === n) {
    offset = 0;
  } else if ((text[i] === "+" || text[i] === "-") && i + 6 === n) {
    const oh = digitsAt(text, i + 1, 2);
    const om = digitsAt(text, i + 4, 2);
    if (oh < 0 || om < 0 || text[i + 3] !== ":" || oh > 23 || om > 59) throw new GoTimeError(text);
    offset = (text[i] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    throw new GoTimeError(text);
  }
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const dim = mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  if (mo < 1 || mo > 12 || d < 1 || d > dim || h > 23 || mi > 59 || s > 59) throw new GoTimeError(text);
  return { sec: daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset, nsec, offset };
}
