// The compact UTC time stamp in snapshot names and restore folders: YYYYMMDDTHHMMSSZ (sorts as it reads).
export function stampOf(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/[-:]/g, "") + "Z";
}

/** The time a stamp stands for (NaN date when it is not one). */
export function parseStamp(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return new Date(Number.NaN);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}
