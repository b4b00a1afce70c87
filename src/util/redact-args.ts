// A child's command line as -v prints it. rclone's arguments never carry a secret by design (credentials live in the
// 0600 rclone.conf), but what is printed is redacted anyway: any configured secret value, the value of an option whose
// name says it is a credential (--password X, --s3-secret-access-key=X), and such keys inside an rclone connection
// string (":sftp,pass=X:").
const SECRET_NAME = /pass|secret|token|key|auth|bearer|credential/i;
const MASK = "***";

function maskKnown(arg: string, secrets: readonly string[]): string {
  let out = arg;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

const isPlainValue = (v: string) => v === "true" || v === "false" || v === "";

export function redactArgs(args: readonly string[], secrets: Iterable<string> = []): string[] {
  // Short values (a 1-3 character "secret") would mask unrelated text; the config loader refuses such secrets anyway.
  const known = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const out: string[] = [];
  let maskNext = false;
  for (const raw of args) {
    if (maskNext && !raw.startsWith("-")) {
      out.push(MASK);
      maskNext = false;
      continue;
    }
    maskNext = false;
    let arg = maskKnown(raw, known);
    const opt = /^(--?[A-Za-z0-9][\w-]*)(=(.*))?$/s.exec(arg);
    if (opt && SECRET_NAME.test(opt[1]!)) {
      if (opt[2] === undefined) maskNext = true;
      else if (!isPlainValue(opt[3]!)) arg = `${opt[1]}=${MASK}`;
    }
    // key=value pairs of a connection string (":sftp,host=h,pass=X:path", "remote,token='{…}':")
    arg = arg.replace(/([,{]\s*)([\w-]+)=('[^']*'|"[^"]*"|[^,:}]*)/g, (m, lead: string, key: string, value: string) =>
      SECRET_NAME.test(key) && !isPlainValue(value) ? `${lead}${key}=${MASK}` : m,
    );
    out.push(arg);
  }
  return out;
}

/** Quotes an argument for display when a shell would need it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
