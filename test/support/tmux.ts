// Drives a real terminal program through tmux, the way a person would: read the screen, type, press keys.
// Every wait polls the screen for text with a deadline (never a fixed sleep); on a timeout the error carries the
// screen so a failure shows where the program was.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";

const TMUX = "/usr/bin/tmux";

export function tmuxAvailable(): boolean {
  try {
    execFileSync(TMUX, ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface TmuxOptions {
  /** argv of the program. */
  argv: string[];
  /** The program's whole environment (also the tmux server's). */
  env: NodeJS.ProcessEnv;
  /** Folder for the launcher script. */
  dir: string;
  cwd?: string;
  width?: number;
  height?: number;
}

export class TmuxSession {
  private constructor(
    private readonly socket: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts the program in a detached session; when it ends the pane shows "[exit N]" and stays. */
  static start(o: TmuxOptions): TmuxSession {
    const socket = `wsync-${process.pid}-${randomBytes(4).toString("hex")}`;
    const script = path.join(o.dir, `${socket}.sh`);
    const cd = o.cwd ? `cd ${shq(o.cwd)} && ` : "";
    writeFileSync(script, `#!/bin/sh\n${cd}${o.argv.map(shq).join(" ")}\necho "[exit $?]"\nexec sleep 3600\n`, { mode: 0o700 });
    // A test runner inside tmux must not hand its own session to the private server.
    const { TMUX: _t, TMUX_PANE: _p, ...env } = o.env;
    const session = new TmuxSession(socket, env);
    session.tmux(["-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", String(o.width ?? 220), "-y", String(o.height ?? 60), script]);
    session.tmux(["set-option", "-g", "history-limit", "20000"]);
    return session;
  }

  private tmux(args: string[]): string {
    return execFileSync(TMUX, ["-L", this.socket, ...args], { env: this.env, encoding: "utf8" });
  }

  /** The whole screen including scrollback, wrapped lines joined. */
  screen(): string {
    return this.tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", "main"]);
  }

  async waitFor(pattern: RegExp | string, timeoutMs = 30_000): Promise<string> {
    const re = typeof pattern === "string" ? new RegExp(escapeRe(pattern)) : pattern;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (re.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} on the screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until the prompt whose message contains `message` is the active one (◆, or ▲ after a refusal). */
  waitPrompt(message: string, timeoutMs?: number): Promise<string> {
    return this.waitFor(new RegExp(`[◆▲]  [^\\n]*${escapeRe(message)}[^\\n]*\\n(?![\\s\\S]*[◆▲◇■]  )`), timeoutMs);
  }

  /** Waits until that prompt was answered (◇). */
  waitAnswered(message: string, timeoutMs?: number): Promise<string> {
    return this.waitFor(new RegExp(`◇  [^\\n]*${escapeRe(message)}`), timeoutMs);
  }

  type(text: string): void {
    if (text) this.tmux(["send-keys", "-t", "main", "-l", text]);
  }

  keys(...keys: string[]): void {
    this.tmux(["send-keys", "-t", "main", ...keys]);
  }

  /** Types an answer into a text or password prompt and submits it. */
  async answer(message: string, text: string): Promise<void> {
    await this.waitPrompt(message);
    this.type(text);
    this.keys("Enter");
    await this.waitAnswered(message);
  }

  /** Types an answer that must be refused; returns the screen showing the reason, then clears the input. */
  async refused(message: string, text: string, reason: string): Promise<string> {
    await this.waitPrompt(message);
    this.type(text);
    this.keys("Enter");
    const screen = await this.waitFor(new RegExp(`▲  [^\\n]*${escapeRe(message)}[\\s\\S]*${escapeRe(reason)}`));
    for (let i = 0; i < text.length; i++) this.keys("BSpace");
    return screen;
  }

  /** y / n on a confirm prompt. */
  async confirm(message: string, yes: boolean): Promise<void> {
    await this.waitPrompt(message);
    this.keys(yes ? "y" : "n");
    await this.waitAnswered(message);
  }

  /** Moves the cursor of a select prompt to the option whose label starts with `label` and submits it. */
  async choose(message: string, label: string): Promise<void> {
    const screen = await this.waitPrompt(message);
    const lines = screen.split("\n");
    let start = -1;
    for (let i = lines.length - 1; i >= 0; i--) {
      if (/^[◆▲]  /.test(lines[i]!) && lines[i]!.includes(message)) {
        start = i;
        break;
      }
    }
    const options: { label: string; active: boolean }[] = [];
    for (const line of lines.slice(start + 1)) {
      if (line.startsWith("└")) break;
      const m = /^│  ([●○]) (.*)$/.exec(line);
      if (m) options.push({ active: m[1] === "●", label: m[2]! }); // other lines: a long hint wrapped by clack
    }
    const from = options.findIndex((o) => o.active);
    const to = options.findIndex((o) => o.label.startsWith(label));
    if (from < 0 || to < 0) throw new Error(`option "${label}" not found under "${message}":\n${options.map((o) => o.label).join("\n")}`);
    const move = to - from;
    for (let i = 0; i < Math.abs(move); i++) this.keys(move > 0 ? "Down" : "Up");
    this.keys("Enter");
    await this.waitAnswered(message);
  }

  /** Waits for the program to end; returns its exit code and the screen. */
  async exited(timeoutMs = 60_000): Promise<{ code: number; screen: string }> {
    const screen = await this.waitFor(/\[exit (\d+)\]/, timeoutMs);
    return { code: Number(/\[exit (\d+)\]/.exec(screen)![1]), screen };
  }

  kill(): void {
    try {
      this.tmux(["kill-server"]);
    } catch {
      // already gone
    }
  }
}
