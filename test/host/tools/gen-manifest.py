# Generates openclaw.plugin.json (schema for the nested and flat formats, uiHints, CLI/command metadata):
#   python3 test/host/tools/gen-manifest.py > openclaw.plugin.json
# src/plugin/manifest.test.ts fails when the config loader (src/config/schema.ts) gains a key this file lacks.
import json, copy
S=lambda **k: {"type":"string", **k}
B=lambda **k: {"type":"boolean", **k}
N=lambda **k: {"type":"number", **k}
I=lambda **k: {"type":"integer", **k}
A=lambda item, **k: {"type":"array","items":item, **k}
O=lambda props, **k: {"type":"object","additionalProperties":True,"properties":props, **k}

PROVIDERS=["dropbox","gdrive","onedrive","s3","custom","local","off"]
ITEMS=["workspace","config","cron","memory","sessions","credentials","skills","hooks","extensions","env","agents","pages","transcripts"]
blocks={
 "dropbox": O({"appFolder":B(),"appKey":S(),"appSecret":S(),"token":S()}),
 "gdrive": O({"token":S(),"teamDrive":S(),"rootFolderId":S(),"clientId":S(),"clientSecret":S()}),
 "onedrive": O({"token":S(),"driveId":S(),"driveType":S(enum=["personal","business","sharepoint"]),"clientId":S(),"clientSecret":S()}),
 "s3": O({"provider":S(),"endpoint":S(),"bucket":S(),"region":S(),"accessKeyId":S(),"secretAccessKey":S()}),
 "custom": O({"rcloneType":S(minLength=1),"rcloneOptions":{"type":"object","additionalProperties":{"type":["string","number","boolean"]}}}),
 "local": O({"path":S(minLength=1)}),
}
crypt=O({"password":S(),"password2":S()})
remote_common={"provider":S(enum=PROVIDERS),"remoteName":S(minLength=1),"configPath":S(), **copy.deepcopy(blocks)}
MAXT=2147483
interval_sync={"type":"integer","anyOf":[{"const":0},{"minimum":60,"maximum":MAXT}],"description":"seconds; 0 = no background sync, else 60 or more"}
sync_props={
 **copy.deepcopy(remote_common),
 "crypt":crypt,
 "mode":S(enum=["mailbox","mirror","bisync"]),
 "remotePath":S(),
 "localPath":S(),
 "interval":interval_sync,
 "timeout":I(minimum=60,maximum=MAXT),
 "onSessionStart":B(),
 "onSessionEnd":B(),
 "conflictResolve":S(enum=["newer","local","remote"]),
 "exclude":A(S()),
 "copySymlinks":B(),
 "ingest":B(),
 "ingestPath":S(),
 "notifyOnInbox":B(),
 "maxDelete":N(minimum=0,maximum=100),
 "trashDays":I(minimum=0,maximum=36500),
 "fullSyncInterval":I(minimum=0,maximum=MAXT),
}
retain={"anyOf":[I(minimum=1,maximum=100000), O({k:I(minimum=0,maximum=100000) for k in ["last","hourly","daily","weekly","monthly","yearly"]})]}
backup_props={
 **copy.deepcopy(remote_common),
 "enabled":B(),
 "bucket":S(),
 "prefix":S(),
 "interval":I(minimum=300,maximum=MAXT),
 "timeout":I(minimum=60,maximum=MAXT),
 "encrypt":B(),
 "passphrase":S(),
 "recipients":A(S(pattern="^age1")),
 "identityFile":S(),
 "include":A(S(enum=ITEMS)),
 "retain":retain,
 "exclude":A(S()),
 "compression":S(enum=["zstd","gzip","none"]),
 "allowPlaintextSecrets":B(),
}
sync_schema=O(copy.deepcopy(sync_props))
backup_schema=O(backup_props)
root=O({"sync":sync_schema,"backup":backup_schema,"rclonePath":S(), **copy.deepcopy(sync_props)})

hints={}
def h(path,label,help,sensitive=False,advanced=False,placeholder=None):
  d={"label":label,"help":help}
  if sensitive: d["sensitive"]=True
  if advanced: d["advanced"]=True
  if placeholder: d["placeholder"]=placeholder
  hints[path]=d
h("sync","Sync","Workspace sync with cloud storage (recommended nested format). The flat format — the same keys at the config root — keeps working.")
h("backup","Backup","Encrypted, streaming snapshots of the agent system to your own storage. Independent of sync.")
h("rclonePath","rclone binary","Path to rclone; default: found on PATH.",advanced=True)
def remote_hints(prefix, what):
  h(f"{prefix}provider","Provider",f"Where the {what} lives: dropbox, gdrive, onedrive, s3, custom (any rclone backend), local (a folder/NAS/USB path) or off.")
  h(f"{prefix}remoteName","rclone remote name","Section name in the product's rclone.conf (default: cloud).",advanced=True)
  h(f"{prefix}configPath","rclone.conf path","Use your own rclone.conf (read-only when no provider block is given).",advanced=True)
  h(f"{prefix}dropbox.appFolder","Dropbox app folder","Scoped app-folder access; then remotePath is usually \"\".")
  h(f"{prefix}dropbox.appKey","Dropbox app key","App key of your own Dropbox app.",sensitive=True)
  h(f"{prefix}dropbox.appSecret","Dropbox app secret","App secret of your own Dropbox app. Use ${VAR}.",sensitive=True)
  h(f"{prefix}dropbox.token","Dropbox token","OAuth token JSON from `workspace-sync authorize`. Use ${VAR}.",sensitive=True)
  h(f"{prefix}gdrive.token","Google Drive token","OAuth token JSON from `workspace-sync authorize --provider gdrive`.",sensitive=True)
  h(f"{prefix}gdrive.teamDrive","Shared drive id","Optional shared (team) drive id.")
  h(f"{prefix}gdrive.rootFolderId","Root folder id","Optional root folder id.",advanced=True)
  h(f"{prefix}gdrive.clientId","Google client id","Optional own OAuth client id.",advanced=True)
  h(f"{prefix}gdrive.clientSecret","Google client secret","Optional own OAuth client secret.",sensitive=True,advanced=True)
  h(f"{prefix}onedrive.token","OneDrive token","OAuth token JSON from `workspace-sync authorize --provider onedrive`.",sensitive=True)
  h(f"{prefix}onedrive.driveId","OneDrive drive id","Optional drive id.")
  h(f"{prefix}onedrive.driveType","OneDrive drive type","personal, business or sharepoint.")
  h(f"{prefix}onedrive.clientId","OneDrive client id","Optional own OAuth client id.",advanced=True)
  h(f"{prefix}onedrive.clientSecret","OneDrive client secret","Optional own OAuth client secret.",sensitive=True,advanced=True)
  h(f"{prefix}s3.provider","S3 flavour","rclone's s3 provider (AWS, Cloudflare, Minio, Other, ...).")
  h(f"{prefix}s3.endpoint","S3 endpoint","e.g. https://<account>.r2.cloudflarestorage.com")
  h(f"{prefix}s3.bucket","S3 bucket","Bucket name.")
  h(f"{prefix}s3.region","S3 region","e.g. us-east-1 or auto.")
  h(f"{prefix}s3.accessKeyId","S3 access key id","Use ${VAR}.",sensitive=True)
  h(f"{prefix}s3.secretAccessKey","S3 secret access key","Use ${VAR}.",sensitive=True)
  h(f"{prefix}custom.rcloneType","rclone backend type","Any rclone backend (sftp, b2, webdav, ...).")
  h(f"{prefix}custom.rcloneOptions","rclone backend options","Passed to the rclone config section; may hold credentials.",sensitive=True)
  h(f"{prefix}local.path","Local folder","Absolute path of a folder, NAS mount or USB disk used as the remote.",placeholder="/mnt/nas/openclaw")
  if what=="backups": return
  h(f"{prefix}crypt.password","Encryption password","Wraps the remote in rclone crypt (end-to-end encrypted; only rclone can read the cloud copy). Use ${VAR}.",sensitive=True)
  h(f"{prefix}crypt.password2","Encryption salt password","Optional second crypt password. Use ${VAR}.",sensitive=True)
def sync_hints(prefix):
  remote_hints(prefix,"synced copy")
  h(f"{prefix}mode","Sync mode","Required: mailbox (push + _outbox→_inbox, safest), mirror (one-way publish) or bisync (two-way; first run needs --resync).")
  h(f"{prefix}remotePath","Remote folder","Folder on the remote (default openclaw-share; Dropbox app folder root: \"\").")
  h(f"{prefix}localPath","Workspace subfolder","Relative folder inside the workspace to sync (default: the whole workspace).")
  h(f"{prefix}interval","Background interval (s)","Seconds between background cycles, measured from the end of the previous one; 0 = off, otherwise >= 60.")
  h(f"{prefix}timeout","Timeout (s)","Maximum seconds for one rclone operation (>= 60, default 1800).",advanced=True)
  h(f"{prefix}onSessionStart","Sync on session start","Queue a cycle in the background when an agent session starts (never delays the session).")
  h(f"{prefix}onSessionEnd","Sync on session end","Queue a cycle when an agent session ends.")
  h(f"{prefix}conflictResolve","Conflict winner","bisync only: newer, local or remote.",advanced=True)
  h(f"{prefix}exclude","Exclude patterns","rclone glob patterns; default **/.DS_Store, .git/**, node_modules/**, **/__pycache__/**, .env*.")
  h(f"{prefix}copySymlinks","Follow symlinks","Copy what symlinks point to instead of skipping them.",advanced=True)
  h(f"{prefix}ingest","Mirror drop folder","mirror only: copy files dropped in <remotePath>/<ingestPath>/ into the workspace (additive).")
  h(f"{prefix}ingestPath","Drop folder name","Folder for ingest (default inbox).")
  h(f"{prefix}notifyOnInbox","Notify agent of new files","After a cycle that brought files, send one system event and wake the agent. Costs an agent turn.")
  h(f"{prefix}maxDelete","Deletion guard (%)","A run that would delete more than this share of the destination's files stops before deleting (default 50).",advanced=True)
  h(f"{prefix}fullSyncInterval","Full comparison interval (s)","Seconds between full rclone comparisons; cycles in between push only what changed (default 86400; 0 = full every cycle).",advanced=True)
  h(f"{prefix}trashDays","Trash retention (days)","Deleted/overwritten files are kept in a trash area this long (default 7; 0 = off).",advanced=True)
sync_hints("sync.")
sync_hints("")
remote_hints("backup.","backups")
h("backup.enabled","Scheduled backups","Run backups on the interval (manual `backup now` works either way).")
h("backup.bucket","Bucket","S3/R2 bucket (or top folder) for snapshots.")
h("backup.prefix","Prefix","Path prefix for snapshots, e.g. habibi/.")
h("backup.interval","Backup interval (s)","Seconds between scheduled backups (>= 300, default 86400).")
h("backup.timeout","Backup timeout (s)","Maximum seconds for one backup.",advanced=True)
h("backup.encrypt","Encrypt","age encryption of every snapshot (required for secrets unless allowPlaintextSecrets).")
h("backup.passphrase","Backup passphrase","age passphrase. Use ${BACKUP_PASSPHRASE}; never stored in logs.",sensitive=True)
h("backup.recipients","age recipients","age1... public keys: the gateway can encrypt without holding the decryption secret.")
h("backup.identityFile","age identity file","Private key file used by restore/verify when recipients are used.",advanced=True)
h("backup.include","Include","workspace, config, cron, memory, sessions, credentials, skills, hooks, extensions, env, agents, pages, transcripts.")
h("backup.retain","Retention","Keep the newest N, or {last, hourly, daily, weekly, monthly, yearly}.")
h("backup.exclude","Exclude patterns","Glob patterns left out of the workspace archive.")
h("backup.compression","Compression","zstd (default when available), gzip or none.",advanced=True)
h("backup.allowPlaintextSecrets","Allow unencrypted secrets","Allow backing up config/credentials/env/agents without encryption. Not recommended.",advanced=True)

manifest={
 "id":"openclaw-workspace-sync",
 "name":"Workspace Sync",
 "description":"Sync the agent workspace with cloud storage through rclone (mailbox, mirror, bisync), and back up the agent system as encrypted streaming snapshots.",
 "categories":["documents-files"],
 "activation":{"onStartup":True},
 "cliCommands":[{"name":"workspace-sync","description":"Sync the agent workspace with cloud storage (rclone) and manage encrypted backups","hasSubcommands":True}],
 "commandAliases":[{"name":"sync-status","kind":"runtime-slash","cliCommand":"workspace-sync"},{"name":"sync-now","kind":"runtime-slash","cliCommand":"workspace-sync"},{"name":"backup-now","kind":"runtime-slash","cliCommand":"workspace-sync"}],
 "backupResources":[
   {"disposition":"include","scope":"state","relativePath":"workspace-sync"},
   {"disposition":"regenerable","scope":"state","relativePath":"workspace-sync/locks"}
 ],
 "uiHints":hints,
 "configSchema":root,
}
print(json.dumps(manifest, indent=2))
