// One question = one flag. An answer given as a flag is checked with the same validator as a typed one (a bad one is
// a usage error, exit 2); with --yes an unanswered question takes its default or, without one, is a usage error
// naming the flag; otherwise the person is asked and a bad answer is refused at the prompt with the reason.
import type { Env } from "../config/index.js";
import { UsageError } from "../util/errors.js";
import { FLAG_IDS, type Presets } from "./flags.js";
import type { Choice, Ui } from "./ui.js";

/** A secret answer: stored in <stateDir>/.env under `envVar` (when `value` is set) and written as ${envVar}. */
export interface Secret {
  envVar: string;
  value: string;
}

type Check = (value: string) => string | undefined;

export class Asker {
  constructor(
    readonly ui: Ui,
    private readonly presets: Presets,
    /** --yes: never ask; defaults stand in for missing answers. */
    readonly scripted: boolean,
    /** Where already-set secrets are found: the process environment, then <stateDir>/.env. */
    private readonly secretsEnv: Env,
  ) {}

  private known(id: string): void {
    if (!FLAG_IDS.has(id)) throw new Error(`setup question "${id}" has no flag`);
  }

  has(id: string): boolean {
    return this.presets.has(id);
  }

  /** An on/off switch that is only ever a flag (never asked): the flag's value, else `initial`. */
  flag(id: string, initial: boolean): boolean {
    this.known(id);
    const preset = this.presets.get(id);
    return typeof preset === "boolean" ? preset : initial;
  }

  private refuse(id: string, value: unknown, why: string): never {
    throw new UsageError(`--${id} ${JSON.stringify(value)}: ${why}`);
  }

  private missing(id: string, what: string): never {
    throw new UsageError(`--${id} is required with --yes: ${what}`);
  }

  async select<T extends string>(id: string, message: string, options: Choice<T>[], initial?: T): Promise<T> {
    this.known(id);
    const preset = this.presets.get(id);
    const values = options.map((o) => o.value);
    if (preset !== undefined) {
      if (typeof preset !== "string" || !values.includes(preset as T)) this.refuse(id, preset, `must be one of ${values.join(", ")}`);
      return preset as T;
    }
    if (this.scripted || !this.ui.interactive) {
      if (initial !== undefined) return initial;
      this.missing(id, `one of ${values.join(", ")}`);
    }
    return this.ui.select({ message, options, ...(initial !== undefined ? { initial } : {}) });
  }

  /** Text answer; `check` gets the effective value (the default when the answer is left empty). */
  async text(id: string, message: string, o: { defaultValue?: string; placeholder?: string; check?: Check; required?: string } = {}): Promise<string> {
    this.known(id);
    const check: Check = (v) => (o.required && v.trim() === "" ? o.required : o.check?.(v));
    const preset = this.presets.get(id);
    if (preset !== undefined) {
      if (typeof preset !== "string") this.refuse(id, preset, "needs a value");
      const problem = check(preset);
      if (problem) this.refuse(id, preset, problem);
      return preset;
    }
    if (this.scripted || !this.ui.interactive) {
      const v = o.defaultValue ?? "";
      if (o.required && v === "") this.missing(id, o.required);
      const problem = check(v);
      if (problem) this.missing(id, problem);
      return v;
    }
    const value = await this.ui.text({
      message,
      ...(o.placeholder !== undefined ? { placeholder: o.placeholder } : o.defaultValue ? { placeholder: o.defaultValue } : {}),
      ...(o.defaultValue !== undefined ? { defaultValue: o.defaultValue } : {}),
      validate: (v) => check(v === "" && o.defaultValue !== undefined ? o.defaultValue : v),
    });
    return value === "" && o.defaultValue !== undefined ? o.defaultValue : value;
  }

  async confirm(id: string, message: string, initial: boolean): Promise<boolean> {
    this.known(id);
    const preset = this.presets.get(id);
    if (typeof preset === "boolean") return preset;
    if (this.scripted || !this.ui.interactive) return initial;
    return this.ui.confirm({ message, initial });
  }

  /** A list: repeated flags, or one comma/space separated answer; each item checked. */
  async list(id: string, message: string, o: { check: Check; required?: string; placeholder?: string }): Promise<string[]> {
    this.known(id);
    const split = (s: string) => s.split(/[\s,]+/).filter(Boolean);
    const checkAll = (items: string[]) => {
      if (o.required && items.length === 0) return o.required;
      for (const item of items) {
        const problem = o.check(item);
        if (problem) return `${item.length > 24 ? `${item.slice(0, 24)}…` : item}: ${problem}`;
      }
      return undefined;
    };
    const preset = this.presets.get(id);
    if (preset !== undefined) {
      const items = Array.isArray(preset) ? preset.flatMap(split) : typeof preset === "string" ? split(preset) : [];
      const problem = checkAll(items);
      if (problem) this.refuse(id, preset, problem);
      return items;
    }
    if (this.scripted || !this.ui.interactive) {
      if (o.required) this.missing(id, o.required);
      return [];
    }
    const value = await this.ui.text({ message, ...(o.placeholder ? { placeholder: o.placeholder } : {}), validate: (v) => checkAll(split(v)) });
    return split(value);
  }

  /**
   * A secret. With --yes it comes from the environment variable `envVar` (or <stateDir>/.env); interactively a value
   * already set there can be kept, else it is typed at a masked prompt (twice with `twice`). Never a flag.
   */
  async secret(envVar: string, message: string, o: { required: boolean; twice?: boolean; check?: Check }): Promise<Secret | undefined> {
    const existing = this.secretsEnv[envVar];
    if (this.scripted || !this.ui.interactive) {
      if (existing) {
        const problem = o.check?.(existing);
        if (problem) throw new UsageError(`the value of ${envVar} ${problem}`);
        return { envVar, value: existing };
      }
      if (o.required) throw new UsageError(`${message}: set the environment variable ${envVar} (secrets are never passed as flags: every user on the machine can read a process's arguments)`);
      return undefined;
    }
    if (existing && (await this.ui.confirm({ message: `${message}: use the ${envVar} that is already set?`, initial: true }))) {
      return { envVar, value: existing };
    }
    const validate = (v: string) => (o.required && v === "" ? "must not be empty" : v === "" ? undefined : o.check?.(v));
    const value = await this.ui.password({ message: `${message}${o.required ? "" : " (empty = none)"}`, validate });
    if (value === "") return undefined;
    if (o.twice) {
      await this.ui.password({ message: "Type it again", validate: (v) => (v === value ? undefined : "does not match: type the same text again") });
    }
    return { envVar, value };
  }
}
