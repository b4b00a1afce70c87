// Interactive yes/no for destructive steps; only on a TTY (otherwise the caller needs --yes).
import { createInterface } from "node:readline/promises";

export function ttyConfirm(): ((question: string, detail: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question, detail) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    // The terminal is in raw mode while asking: Ctrl-C arrives here, not as a process signal. It means "no".
    const asked = new AbortController();
    rl.once("SIGINT", () => asked.abort());
    try {
      const answer = await rl.question(`${detail}\n${question} [y/N] `, { signal: asked.signal });
      return /^y(es)?$/i.test(answer.trim());
    } catch {
      return false;
    } finally {
      rl.close();
    }
  };
}
