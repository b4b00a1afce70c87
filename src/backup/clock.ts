// The backup engine's clock. WORKSPACE_SYNC_FAKE_NOW (an ISO date) is a test hook, read only here: the fault suite
// runs backups "in 2001" and "in 2099" to prove that a wrong host clock cannot make retention delete the newest
// snapshot (docs/backup.md, Retention). The fake clock starts at that date and advances in real time.
export function clockFor(env: NodeJS.ProcessEnv): () => Date {
  const fake = env.WORKSPACE_SYNC_FAKE_NOW ? Date.parse(env.WORKSPACE_SYNC_FAKE_NOW) : Number.NaN;
  if (Number.isNaN(fake)) return () => new Date();
  const offset = fake - Date.now();
  return () => new Date(Date.now() + offset);
}
