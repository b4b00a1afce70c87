// How setup and authorize talk to the person: @clack/prompts on a terminal (the host's own prompt library), plain
// lines on stderr for scripts (--yes), where a question that has no answer is a usage error naming the flag.
import * as clack from "@clack/prompts";
import type { Logger } from "../util/logger.js";
import { FlagError, OperationError } from "../util/errors.js";

export interface Choice<T extends string> {
  value: T;
  label: string;
  hint?: string;
}

export interface Spinner {
  stop(message: string): void;
  fail(message: string): void;
}

export interface Ui {
  /** True when questions can be asked (a terminal, no --yes). */
  readonly interactive: boolean;
  intro(title: string): void;
  outro(message: string): void;
  info(message: string): void;
  success(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  note(body: string, title?: string): void;
  select<T extends string>(o: { message: string; options: Choice<T>[]; initial?: T }): Promise<T>;
  text(o: { message: string; placeholder?: string; defaultValue?: string; validate?: (value: string) => string | undefined }): Promise<string>;
  password(o: { message: string; validate?: (value: string) => string | undefined }): Promise<string>;
  confirm(o: { message: string; initial?: boolean }): Promise<boolean>;
  spinner(message: string): Spinner;
  /** Logger for engines running inside the flow (first sync, first backup). */
  logger(): Logger;
}

/** The person left the wizard (Ctrl-C / Esc): nothing after that point was done. */
export class CancelledError extends OperationError {
  constructor() {
    super("setup cancelled: nothing after the last completed step was changed");
    this.name = "CancelledError";
  }
}

function answer<T>(value: T): Exclude<T, symbol> {
  if (clack.isCancel(value)) throw new CancelledError();
  return value as Exclude<T, symbol>;
}

export function clackUi(): Ui {
  let spinning = false;
  const held: (() => void)[] = [];
  const later = (fn: () => void) => (spinning ? held.push(fn) : fn());
  return {
    interactive: true,
    intro: (t) => clack.intro(t),
    outro: (m) => clack.outro(m),
    info: (m) => later(() => clack.log.info(m)),
    success: (m) => later(() => clack.log.success(m)),
    warn: (m) => later(() => clack.log.warn(m)),
    error: (m) => later(() => clack.log.error(m)),
    note: (body, title) => clack.note(body, title),
    select: async <T extends string>(o: { message: string; options: Choice<T>[]; initial?: T }) =>
      answer(
        await clack.select<T>({
          message: o.message,
          // clack's Option type is conditional on the value type; the shape is the same for every string union.
          options: o.options.map((c) => ({ value: c.value, label: c.label, ...(c.hint ? { hint: c.hint } : {}) })) as never,
          ...(o.initial !== undefined ? { initialValue: o.initial } : {}),
        }),
      ),
    text: async (o) =>
      answer(
        await clack.text({
          message: o.message,
          ...(o.placeholder !== undefined ? { placeholder: o.placeholder } : {}),
          ...(o.defaultValue !== undefined ? { defaultValue: o.defaultValue } : {}),
          ...(o.validate ? { validate: (v: string | undefined) => o.validate!(v ?? "") } : {}),
        }),
      ),
    password: async (o) =>
      answer(
        await clack.password({
          message: o.message,
          ...(o.validate ? { validate: (v: string | undefined) => o.validate!(v ?? "") } : {}),
        }),
      ),
    confirm: async (o) => answer(await clack.confirm({ message: o.message, initialValue: o.initial ?? true })),
    spinner(message) {
      const s = clack.spinner();
      s.start(message);
      spinning = true;
      const release = () => {
        spinning = false;
        for (const fn of held.splice(0)) fn();
      };
      return {
        stop: (m) => {
          s.stop(m);
          release();
        },
        fail: (m) => {
          s.error(m);
          release();
        },
      };
    },
    logger() {
      return {
        debug: () => {},
        info: () => {},
        warn: (m) => later(() => clack.log.warn(m)),
        error: (m) => later(() => clack.log.error(m)),
      };
    },
  };
}

/**
 * Non-interactive: progress as plain lines on stderr (only warnings and errors under -q); any question is a usage
 * error (the caller passes flags).
 */
export function plainUi(o: { stream?: NodeJS.WritableStream; quiet?: boolean } = {}): Ui {
  const stream = o.stream ?? process.stderr;
  const line = (prefix: string, m: string) => stream.write(`${prefix}${m.replace(/\n/g, `\n${" ".repeat(prefix.length)}`)}\n`);
  const say = o.quiet ? () => {} : line;
  const noQuestion = (message: string): never => {
    throw new FlagError(`setup needs an answer to "${message}" but cannot ask (no terminal or --yes): pass it as a flag`);
  };
  return {
    interactive: false,
    intro: (t) => say("", t),
    outro: (m) => say("", m),
    info: (m) => say("  ", m),
    success: (m) => say("  ok: ", m),
    warn: (m) => line("  warning: ", m),
    error: (m) => line("  error: ", m),
    note: (body, title) => say("", `${title ? `${title}:\n` : ""}${body.replace(/^/gm, "  ")}`),
    select: async (q) => noQuestion(q.message),
    text: async (q) => noQuestion(q.message),
    password: async (q) => noQuestion(q.message),
    confirm: async (q) => noQuestion(q.message),
    spinner(message) {
      say("  ", `${message}…`);
      return { stop: (m) => say("  ok: ", m), fail: (m) => line("  failed: ", m) };
    },
    logger: () => ({ debug: () => {}, info: (m) => say("  ", m), warn: (m) => line("  warning: ", m), error: (m) => line("  error: ", m) }),
  };
}
