// Reads a whole (small) stream, e.g. a token piped into `authorize --paste`.
import { UsageError } from "../util/errors.js";

export async function readAll(stream: NodeJS.ReadableStream, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) throw new UsageError(`more than ${limit} bytes on stdin: pipe in only what \`rclone authorize\` printed`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}
