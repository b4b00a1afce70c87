import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { stderrLogger } from "./logger.js";

function capture(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe("stderrLogger", () => {
  const now = () => new Date("2026-03-10T02:00:00.123Z");

  it("stamps each line with the time when the stream is not a terminal (cron mail, log files)", () => {
    const c = capture(false);
    const log = stderrLogger({ stream: c.stream, now });
    log.info("sync started");
    log.warn("slow");
    expect(c.text()).toBe("2026-03-10T02:00:00Z [workspace-sync] sync started\n2026-03-10T02:00:00Z [workspace-sync] warning: slow\n");
  });

  it("no time on a terminal; -q drops info, -v adds debug", () => {
    const c = capture(true);
    stderrLogger({ stream: c.stream, quiet: true, now }).info("hidden");
    stderrLogger({ stream: c.stream, now }).debug("hidden too");
    stderrLogger({ stream: c.stream, verbose: true, now }).debug("shown");
    stderrLogger({ stream: c.stream, quiet: true, now }).error("always");
    expect(c.text()).toBe("[workspace-sync] debug: shown\n[workspace-sync] error: always\n");
  });
});
