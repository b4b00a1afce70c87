// systemd user units for the standalone schedule: one oneshot service and one timer per job. The timer runs the
// job `interval` after the previous run ENDED (OnUnitInactiveSec), the same rule as the plugin's service, so runs
// never overlap or pile up; the first run comes shortly after the timer starts (login or boot with lingering).

export interface SystemdJob {
  job: "sync" | "backup";
  intervalS: number;
  /** argv of the command (absolute paths); quoted for ExecStart here. */
  argv: string[];
  /** PATH the job runs with (rclone must be on it). */
  path: string;
}

export interface UnitFile {
  name: string;
  text: string;
}

const FIRST_RUN_DELAY = { sync: "1min", backup: "5min" } as const;

/** ExecStart quoting: systemd splits on spaces and honours double quotes with C-style escapes; % is a specifier. */
export function execQuote(arg: string): string {
  const escaped = arg.replace(/%/g, "%%");
  return /^[\w@+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function unitBase(id: string, job: "sync" | "backup"): string {
  return `workspace-sync-${id}-${job}`;
}

export function systemdUnits(id: string, jobs: SystemdJob[], description: string): UnitFile[] {
  const files: UnitFile[] = [];
  for (const j of jobs) {
    const base = unitBase(id, j.job);
    const what = j.job === "sync" ? "sync the OpenClaw workspace" : "back up the OpenClaw agent";
    files.push({
      name: `${base}.service`,
      text: [
        "# Managed by `workspace-sync schedule`; `workspace-sync schedule remove` deletes it.",
        "[Unit]",
        `Description=workspace-sync: ${what} (${description})`,
        "",
        "[Service]",
        "Type=oneshot",
        `ExecStart=${j.argv.map(execQuote).join(" ")}`,
        `Environment=${execQuote(`PATH=${j.path}`)}`,
        // exit 3: another run held the lock; the next tick catches up, the unit is not failed for it
        "SuccessExitStatus=3",
        ...(j.job === "backup" ? ["Nice=10", "IOSchedulingClass=idle"] : []),
        "",
      ].join("\n"),
    });
    files.push({
      name: `${base}.timer`,
      text: [
        "# Managed by `workspace-sync schedule`; `workspace-sync schedule remove` deletes it.",
        "[Unit]",
        `Description=workspace-sync: ${what} every ${j.intervalS}s (${description})`,
        "",
        "[Timer]",
        `OnActiveSec=${FIRST_RUN_DELAY[j.job]}`,
        `OnUnitInactiveSec=${j.intervalS}s`,
        `AccuracySec=${j.job === "sync" ? "10s" : "1min"}`,
        `Unit=${base}.service`,
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
      ].join("\n"),
    });
  }
  return files;
}

/**
 * The `next` time of a timer from `systemctl --user list-timers --all --output=json` (microseconds since the epoch),
 * or undefined when the timer is not listed or has no next elapse.
 */
export function nextFromListTimers(json: string, timer: string): Date | undefined {
  try {
    const rows = JSON.parse(json) as { unit?: string; next?: number | null }[];
    const row = rows.find((r) => r.unit === timer);
    return row && typeof row.next === "number" && row.next > 0 ? new Date(Math.floor(row.next / 1000)) : undefined;
  } catch {
    return undefined;
  }
}
