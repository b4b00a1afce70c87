// Where a resolved config object was written, so a later message can name the key the user must change:
// "sync.local" or "local" (flat format) for a provider block, "sync" or "" for the sync settings. Kept beside the
// objects (a WeakMap), not in them: the resolved config is the same whichever format the user wrote.
const keys = new WeakMap<object, string>();

export function recordKey(obj: object, key: string | undefined): void {
  if (key !== undefined) keys.set(obj, key);
}

/** The key an object of the resolved config was read from; undefined when unknown (built elsewhere). */
export function configKey(obj: object | undefined): string | undefined {
  return obj ? keys.get(obj) : undefined;
}
