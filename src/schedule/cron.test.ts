import { describe, expect, it } from "vitest";
import { cronBlock, cronExpression, findBlock, nextCronRun, withBlock } from "./cron.js";

describe("crontab block", () => {
  const block = cronBlock("abcd1234", [{ job: "sync", expression: "*/5 * * * *", command: "/n /b sync -q" }], "added by test");

  it("adds, replaces and removes only its own block; every other line stays as it was", () => {
    const mine = "MAILTO=me\n# nightly\n0 2 * * * /usr/local/bin/other\n";
    const added = withBlock(mine, "abcd1234", block);
    expect(added).toBe(`${mine}${block}\n`);
    expect(withBlock(added, "abcd1234", block)).toBe(added); // idempotent
    const other = cronBlock("ffff0000", [{ job: "backup", expression: "1 3 * * *", command: "/n /b backup now -q" }], "another state dir");
    const both = withBlock(added, "ffff0000", other);
    const replaced = withBlock(both, "abcd1234", block.replace("*/5", "*/10"));
    expect(findBlock(replaced, "abcd1234")).toContain("*/10 * * * *");
    expect(findBlock(replaced, "ffff0000")).toBe(other);
    expect(withBlock(withBlock(replaced, "abcd1234", undefined), "ffff0000", undefined)).toBe(mine);
    expect(withBlock("", "abcd1234", undefined)).toBe("");
  });

  it("cron expressions closest to an interval, saying when cron cannot repeat it exactly", () => {
    expect(cronExpression(300, 0.5)).toEqual({ expression: "*/5 * * * *" });
    expect(cronExpression(60, 0)).toEqual({ expression: "* * * * *" });
    expect(cronExpression(420, 0).note).toMatch(/every 7 min .*shorter/);
    expect(cronExpression(3600, 0.25)).toEqual({ expression: "15 * * * *" });
    expect(cronExpression(6 * 3600, 0.5)).toEqual({ expression: "30 */6 * * *" });
    const daily = cronExpression(86400, 0.5);
    expect(daily.expression).toMatch(/^30 [1-4] \* \* \*$/);
    expect(daily.note).toBeUndefined();
    expect(cronExpression(2 * 86400, 0).note).toMatch(/every 2\. day/);
  });

  it("next run of the expressions it writes (local time, like cron)", () => {
    const from = new Date(2026, 2, 10, 10, 2, 30);
    expect(nextCronRun("*/5 * * * *", from)).toEqual(new Date(2026, 2, 10, 10, 5, 0));
    expect(nextCronRun("15 * * * *", from)).toEqual(new Date(2026, 2, 10, 10, 15, 0));
    expect(nextCronRun("30 3 * * *", from)).toEqual(new Date(2026, 2, 11, 3, 30, 0));
    expect(nextCronRun("0 */6 * * *", from)).toEqual(new Date(2026, 2, 10, 12, 0, 0));
    expect(nextCronRun("0 1 */2 * *", from)).toEqual(new Date(2026, 2, 11, 1, 0, 0)); // days 1, 3, 5, … 11
    expect(nextCronRun("0 1 * 2 *", from)).toBeUndefined();
  });
});
