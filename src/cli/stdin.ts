// Reads a whole (small) stream, e.g. a token piped into `authorize --paste`.
export async function readAll(stream: NodeJS.ReadableStream, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) throw new Error(`more than ${limit} bytes on stdin`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}
