// Runs s3rver as a child process for the test harness (see servers.ts).
// Usage: node s3rver-runner.mjs '<json options>'
//   options: { address: string, port: number (0 = any), directory: string, buckets: string[] }
// Prints one line `{"ready":true,"port":N}` on stdout once listening.
// Exits when its stdin closes (the test process died) or on SIGTERM/SIGINT.
// S3RVER_REQUEST_LOG=<file> in its environment: one line "METHOD /path?query" per request received (to count them),
// followed by " range=bytes=A-B" for a ranged read.
import { appendFileSync, mkdirSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const S3rver = require("s3rver");

const opts = JSON.parse(process.argv[2] ?? "{}");
const requestLog = process.env.S3RVER_REQUEST_LOG;
if (requestLog) {
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, req, ...rest) {
    if (event === "request") appendFileSync(requestLog, `${req.method} ${req.url}${req.headers.range ? ` range=${req.headers.range}` : ""}\n`);
    return emit.call(this, event, req, ...rest);
  };
}
mkdirSync(opts.directory, { recursive: true });

const server = new S3rver({
  address: opts.address ?? "127.0.0.1",
  port: opts.port ?? 0,
  directory: opts.directory,
  silent: true,
  resetOnClose: false,
  configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
});

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  const timer = setTimeout(() => process.exit(code), 2000);
  timer.unref();
  try {
    await server.close();
  } catch {
    // not running
  }
  process.exit(code);
}

process.on("SIGTERM", () => void shutdown(0));
process.on("SIGINT", () => void shutdown(0));
// The parent holds our stdin open; EOF means it is gone, so do not outlive it.
process.stdin.on("end", () => void shutdown(0));
process.stdin.on("error", () => void shutdown(0));
process.stdin.resume();

try {
  const address = await server.run();
  process.stdout.write(`${JSON.stringify({ ready: true, port: address.port })}\n`);
} catch (err) {
  process.stderr.write(`s3rver failed to start: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(1);
}
