// s3rver with one extra access key (for the secrets fault case: s3rver's built-in S3RVER/S3RVER pair is too
// short and too common to scan for). The pair comes through the environment (S3RVER_EXTRA_KEY = JSON {key,
// secret}), never argv; the rest is the harness's own runner (same arguments, same stdin watchdog).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { key, secret } = JSON.parse(process.env.S3RVER_EXTRA_KEY ?? "{}");
if (key && secret) require("s3rver/lib/models/account").DUMMY_ACCOUNT.createKeyPair(key, secret);
await import("../../helpers/s3rver-runner.mjs");
