// The product's name and version, recorded in every snapshot. package.json is read relative to this module, which
// sits two levels below the package root both in dist/ (dist/backup/product.js) and in the bundled bin
// (dist/bundle/…): keep it there.
import { readFileSync } from "node:fs";

let productVersion: string | undefined;
export function product(): { name: string; version: string } {
  if (!productVersion) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
      productVersion = pkg.version ?? "unknown";
    } catch {
      productVersion = "unknown";
    }
  }
  return { name: "openclaw-workspace-sync", version: productVersion };
}
