import { describe, expect, it } from "vitest";
import { rcloneName } from "./names.js";

describe("rclone's standard names for disk names", () => {
  it("shows control characters as control pictures and quotes real pictures", () => {
    expect(rcloneName("line\nbreak.txt")).toBe("line\u240abreak.txt");
    expect(rcloneName("esc\x1b[31m.txt")).toBe("esc\u241b[31m.txt");
    expect(rcloneName("del\x7f")).toBe("del\u2421");
    expect(rcloneName("lit\u240aeral")).toBe("lit\u201b\u240aeral");
    expect(rcloneName("dir/plain name.txt")).toBe("dir/plain name.txt");
  });
});
