import { afterEach, describe, expect, it } from "vitest";
import { GoTimeError, fixTime, formatRfc3339Nano, goTimeFromNs, goTimeToNs, localOffsetAt, parseRfc3339 } from "./go-time.js";

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe("Go time.Time in JSON (RFC3339Nano)", () => {
  it.each([
    "2014-12-22T14:47:59.912418701+01:00",
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05.1Z",
    "2024-01-02T03:04:05.000000001-07:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999+14:00",
    "1969-12-31T23:59:59.5Z",
    "2024-02-29T12:00:00+05:45",
  ])("round-trips %s", (text) => {
    expect(formatRfc3339Nano(parseRfc3339(text))).toBe(text);
  });

  it("drops trailing zeros and writes Z for a zero offset, as Go does", () => {
    expect(formatRfc3339Nano(parseRfc3339("2024-01-02T03:04:05.120000000+00:00"))).toBe("2024-01-02T03:04:05.12Z");
    expect(formatRfc3339Nano(parseRfc3339("2024-01-02T03:04:05.000Z"))).toBe("2024-01-02T03:04:05Z");
  });

  it("rejects what Go's time.Parse(RFC3339) rejects", () => {
    for (const bad of ["2024-01-02 03:04:05Z", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-02T03:04:05", "2024-01-02T03:04:05.1234567890Z", "2024-01-02T24:00:00Z", "2024-01-02T03:04:05+0100"]) {
      expect(() => parseRfc3339(bad), bad).toThrow(GoTimeError);
    }
  });

  it("makes times from stat nanoseconds in the local zone, with the offset in force at that instant", () => {
    process.env.TZ = "America/New_York";
    const summer = goTimeFromNs(1719835200_123456789n); // 2024-07-01T12:00:00Z
    const winter = goTimeFromNs(1705287600_000000000n); // 2024-01-15T03:00:00Z
    expect(formatRfc3339Nano(summer)).toBe("2024-07-01T08:00:00.123456789-04:00");
    expect(formatRfc3339Nano(winter)).toBe("2024-01-14T22:00:00-05:00");
    expect(goTimeToNs(summer)).toBe(1719835200_123456789n);
    process.env.TZ = "Asia/Kolkata";
    expect(localOffsetAt(0)).toBe(19800);
    expect(formatRfc3339Nano(goTimeFromNs(-1n))).toBe("1970-01-01T05:29:59.999999999+05:30");
    process.env.TZ = "UTC";
    expect(formatRfc3339Nano(goTimeFromNs(-1n))).toBe("1969-12-31T23:59:59.999999999Z");
    expect(formatRfc3339Nano(goTimeFromNs(5n, "utc"))).toBe("1970-01-01T00:00:00.000000005Z");
  });

  it("moves years outside 0..9999 into range like restic's FixTime", () => {
    const far = { sec: 253402300800 + 86400 * 59, nsec: 7, offset: 0 }; // 10000-03-01
    expect(formatRfc3339Nano(fixTime(far))).toBe("9999-03-01T00:00:00.000000007Z");
    const leap = parseRfc3339("2024-02-29T01:02:03Z");
    const leapFar = { ...leap, sec: leap.sec + (8000 * 365 + 1940) * 86400 }; // still Feb 29 of a leap year > 9999
    const fixed = formatRfc3339Nano(fixTime(leapFar));
    expect(fixed.startsWith("9999-")).toBe(true);
    const early = { sec: -62167219200 - 86400 * 365, nsec: 0, offset: 0 }; // -0001-01-01
    expect(formatRfc3339Nano(fixTime(early))).toBe("0000-01-01T00:00:00Z");
  });
});
