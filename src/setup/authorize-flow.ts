// Getting an OAuth token into the product's rclone.conf: the browser sign-in (`rclone authorize` on this machine), or
// the headless way (run `rclone authorize` on a machine with a browser and paste what it prints). The token is
// written into the remote's own section through the section-by-section writer, so other sections, and other
// remotes' tokens, are never touched; `writeRemoteSections` keeps it from then on (see remotes.ts).
import type { RemoteSpec } from "../config/types.js";
import type { RcloneBinary } from "../rclone/binary.js";
import { type AuthorizedToken, parseAuthorizeOutput, runAuthorize } from "../rclone/authorize.js";
import { readConf, updateSections } from "../rclone/conf-file.js";
import { markConfigToken, OAUTH_TYPES, type ResolvedRemote } from "../rclone/remotes.js";
import { OperationError, UsageError } from "../util/errors.js";
import { isOAuthProvider, OAUTH_PROVIDERS, type OAuthProvider, PROVIDER_LABEL } from "./catalog.js";
import type { Ui } from "./ui.js";

export type AuthorizeMethod = "browser" | "paste" | "skip";

/** One rclone section that needs a token, and the own-app credentials its sign-in uses. */
export interface TokenTarget {
  provider: OAuthProvider;
  /** What it is for, for messages ("sync", "backup"). */
  role: string;
  remote: ResolvedRemote;
  sectionName: string;
  client: { id?: string; secret?: string };
  /** The token the config itself sets (it then wins until it changes; see markConfigToken). */
  configToken?: string;
  /** OneDrive drive id the config sets (otherwise found after sign-in). */
  driveId?: string;
}

export function clientOf(spec: RemoteSpec): { id?: string; secret?: string } {
  if (spec.dropbox) return { ...(spec.dropbox.appKey ? { id: spec.dropbox.appKey } : {}), ...(spec.dropbox.appSecret ? { secret: spec.dropbox.appSecret } : {}) };
  const b = spec.gdrive ?? spec.onedrive;
  return { ...(b?.clientId ? { id: b.clientId } : {}), ...(b?.clientSecret ? { secret: b.clientSecret } : {}) };
}

/** The OAuth section of a resolved remote, when it has one the product writes. */
export function tokenTarget(role: string, spec: RemoteSpec, remote: ResolvedRemote): TokenTarget | undefined {
  if (remote.readOnly || !isOAuthProvider(spec.provider)) return undefined;
  const block = spec.dropbox ?? spec.gdrive ?? spec.onedrive;
  return {
    provider: spec.provider,
    role,
    remote,
    sectionName: spec.remoteName,
    client: clientOf(spec),
    ...(block?.token ? { configToken: block.token } : {}),
    ...(spec.onedrive?.driveId ? { driveId: spec.onedrive.driveId } : {}),
  };
}

/** True when the section already holds a token (from an earlier sign-in or from the config). */
export async function hasToken(target: TokenTarget): Promise<boolean> {
  if (target.configToken) return true;
  const conf = await readConf(target.remote.configPath).catch(() => new Map<string, Record<string, string>>());
  return !!conf.get(target.sectionName)?.token;
}

/** What to do on a machine without a browser, with the exact command (own-app credentials by name only). */
export function headlessGuidance(provider: OAuthProvider, client: { id?: string; secret?: string }): string {
  const type = OAUTH_PROVIDERS[provider];
  const lines = ["On a computer with a web browser and rclone installed, run:", ""];
  if (client.id) {
    const pre = `RCLONE_${type.toUpperCase()}_`;
    lines.push(`  export ${pre}CLIENT_ID='<your app key / client id>'`);
    lines.push(`  read -rs ${pre}CLIENT_SECRET && export ${pre}CLIENT_SECRET    # type its secret, then Enter`);
    lines.push(`  rclone authorize "${type}"`);
  } else lines.push(`  rclone authorize "${type}"`);
  lines.push(
    "",
    "Sign in when the browser opens. rclone then prints a block between",
    '"Paste the following into your remote machine --->" and "<---End paste":',
    "copy it (the {...} token) and paste it here.",
    "",
    "Or forward rclone's sign-in port to this machine (ssh -L 53682:localhost:53682 this-host)",
    "and choose the browser sign-in with the link rclone prints.",
  );
  return lines.join("\n");
}

/** OneDrive needs drive_id and drive_type; rclone's own config asks Microsoft Graph, and so does this. */
export async function discoverOnedriveDrive(
  token: string,
  fetchImpl: typeof fetch = fetch,
  url = "https://graph.microsoft.com/v1.0/me/drive",
): Promise<{ driveId: string; driveType: string } | undefined> {
  let access: unknown;
  try {
    access = (JSON.parse(token) as { access_token?: unknown }).access_token;
  } catch {
    return undefined;
  }
  if (typeof access !== "string") return undefined;
  try {
    const res = await fetchImpl(url, { headers: { authorization: `Bearer ${access}` }, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { id?: unknown; driveType?: unknown };
    if (typeof body.id !== "string" || typeof body.driveType !== "string") return undefined;
    const driveType = body.driveType === "documentLibrary" ? "sharepoint" : body.driveType;
    if (!["personal", "business", "sharepoint"].includes(driveType)) return undefined;
    return { driveId: body.id, driveType };
  } catch {
    return undefined;
  }
}

/**
 * Writes the token (and OneDrive's drive) into the target's section: the section is (re)written with the product's
 * own options plus the token; every other section of the file stays as it was.
 */
export async function storeToken(target: TokenTarget, authorized: AuthorizedToken, drive?: { driveId: string; driveType: string }): Promise<void> {
  const own = target.remote.sections[target.sectionName];
  if (!own || !OAUTH_TYPES.has(own.type ?? "")) throw new Error(`remote ${target.sectionName} is not an OAuth remote`);
  const section = { ...own, token: authorized.token };
  for (const [k, v] of Object.entries(authorized.extra)) if (!(k in section) && k !== "type") section[k as keyof typeof section] = v;
  if (drive && !own.drive_id) Object.assign(section, { drive_id: drive.driveId, drive_type: own.drive_type ?? drive.driveType });
  // Only this section is written; a drive found at an earlier sign-in stays when none was found now.
  await updateSections(
    target.remote.configPath,
    { [target.sectionName]: section },
    (_name, key, _value, existing) => (key === "drive_id" || key === "drive_type") && !(key in section) && existing.type === own.type,
  );
  if (target.configToken) await markConfigToken(target.remote.configPath, target.sectionName, target.configToken);
}

/** Reads a pasted token (masked: it is a credential) until it parses or the person gives up. */
async function pastedToken(ui: Ui, readStdin?: () => Promise<string>): Promise<AuthorizedToken> {
  if (!ui.interactive) {
    if (!readStdin) throw new UsageError("paste needs the token on stdin");
    const token = parseAuthorizeOutput(await readStdin());
    if (!token) throw new UsageError('stdin holds no token: give the {"access_token":…} JSON that `rclone authorize` printed');
    return token;
  }
  const text = await ui.password({
    message: "Paste the token (the {…} JSON rclone printed; hidden)",
    validate: (v) => (parseAuthorizeOutput(v) ? undefined : 'this is not a token: paste the {"access_token":…} JSON printed between the markers'),
  });
  return parseAuthorizeOutput(text)!;
}

export interface ObtainOptions {
  ui: Ui;
  bin: RcloneBinary;
  env: NodeJS.ProcessEnv;
  method: AuthorizeMethod;
  /** Reads stdin (paste in the non-interactive form). */
  readStdin?: () => Promise<string>;
  noBrowser?: boolean;
  fetchImpl?: typeof fetch;
}

/** Runs the chosen sign-in for `target` (undefined when skipped); nothing is stored yet. */
export async function obtainToken(target: TokenTarget, o: ObtainOptions): Promise<AuthorizedToken | undefined> {
  const label = PROVIDER_LABEL[target.provider];
  if (o.method === "skip") return undefined;
  if (o.method === "paste") {
    o.ui.note(headlessGuidance(target.provider, target.client), `Sign in to ${label} from another computer`);
    return pastedToken(o.ui, o.readStdin);
  }
  o.ui.info(`Signing in to ${label} with rclone authorize: a browser window opens (or use the link rclone prints below).`);
  try {
    return await runAuthorize({
      bin: o.bin,
      rcloneType: OAUTH_PROVIDERS[target.provider],
      client: target.client,
      env: o.env,
      ...(o.noBrowser ? { noBrowser: true } : {}),
      onMessage: (m) => o.ui.info(m),
    });
  } catch (err) {
    throw new OperationError(
      `${label} sign-in failed: ${(err as Error).message}. On a machine without a browser use the paste method:\n${headlessGuidance(target.provider, target.client)}`,
    );
  }
}

/** Stores an obtained token in the target's section (OneDrive: with its drive, looked up when the config has none). */
export async function keepToken(target: TokenTarget, token: AuthorizedToken, o: Pick<ObtainOptions, "ui" | "fetchImpl">): Promise<void> {
  const label = PROVIDER_LABEL[target.provider];
  let drive: { driveId: string; driveType: string } | undefined;
  if (target.provider === "onedrive" && !target.driveId) {
    drive = await discoverOnedriveDrive(token.token, o.fetchImpl);
    if (drive) o.ui.info(`OneDrive drive ${drive.driveType} (${drive.driveId}) found.`);
    else o.ui.warn("could not look up the OneDrive drive id: set onedrive.driveId in the config (rclone needs it; `rclone config` shows it)");
  }
  await storeToken(target, token, drive);
  o.ui.success(`${label} token stored in ${target.remote.configPath} [${target.sectionName}] for the ${target.role} remote (mode 0600).`);
}

/** Signs in for one target by the chosen method and stores the token; false when skipped. */
export async function authorizeTarget(target: TokenTarget, o: ObtainOptions): Promise<boolean> {
  const token = await obtainToken(target, o);
  if (!token) return false;
  await keepToken(target, token, o);
  return true;
}
