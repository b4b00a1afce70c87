// The environment child processes run with: every rclone run (the runner applies it), and any other child the
// product spawns should too. rclone reads credentials from the product's 0600 rclone.conf, so no child needs a
// configured secret: a variable whose value is (or contains) one is left out. An exported BACKUP_PASSPHRASE or S3
// secret the user referenced as ${VAR} stays in the CLI's own environment only. Secrets are registered when a
// configuration is loaded (app/child-secrets.ts).
const registered = new Set<string>();

/** Adds configured secret values (passphrase, passwords, tokens, keys) to those kept out of child environments. */
export function registerChildSecrets(values: Iterable<string>): void {
  for (const v of values) if (v) registered.add(v);
}

/** The registered secret values (for redacting what -v prints). */
export function registeredSecrets(): ReadonlySet<string> {
  return registered;
}

/** A copy of env without any variable whose value is a secret or (for secrets of 6+ characters) contains one. */
export function childEnv(env: NodeJS.ProcessEnv, secrets: Iterable<string> = registered): NodeJS.ProcessEnv {
  const live = [...secrets].filter((s) => s.length > 0);
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (live.some((s) => value === s || (s.length >= 6 && value.includes(s)))) continue;
    out[key] = value;
  }
  return out;
}
