// Crontab lines for the standalone schedule: a marked block per state dir, added, replaced or removed without touching
// any other line of the user's crontab. Cron runs a minute-granular clock in local time.

export interface CronJob {
  job: "sync" | "backup";
  /** Five cron fields. */
  expression: string;
  command: string;
  /** Said in the block and by `schedule status` when cron cannot repeat the interval exactly. */
  note?: string;
}

const BEGIN = (id: string) => `# >>> workspace-sync ${id} >>>`;
const END = (id: string) => `# <<< workspace-sync ${id} <<<`;

/**
 * The cron expression closest to "every intervalS seconds". `spread` (0..1, from the schedule id) picks the minute
 * and hour of hourly and daily jobs so that many machines do not all start at :00.
 */
export function cronExpression(intervalS: number, spread: number): { expression: string; note?: string } {
  const minutes = Math.max(1, Math.round(intervalS / 60));
  const minute = Math.floor(spread * 60) % 60;
  if (minutes < 60) {
    const uneven = 60 % minutes !== 0;
    return {
      expression: minutes === 1 ? "* * * * *" : `*/${minutes} * * * *`,
      ...(uneven || minutes * 60 !== intervalS ? { note: `cron repeats every ${minutes} min within the hour${uneven ? " (the last gap of each hour is shorter)" : ""}` } : {}),
    };
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    const uneven = 24 % hours !== 0;
    return {
      expression: hours === 1 ? `${minute} * * * *` : `${minute} */${hours} * * *`,
      ...(uneven || hours * 3600 !== intervalS ? { note: `cron repeats every ${hours} h within the day${uneven ? " (the last gap of each day is shorter)" : ""}` } : {}),
    };
  }
  const days = Math.round(hours / 24);
  // Daily jobs at night (01:00-04:59 local time), the usual backup window.
  const hour = 1 + (Math.floor(spread * 240) % 4);
  return {
    expression: days === 1 ? `${minute} ${hour} * * *` : `${minute} ${hour} */${days} * *`,
    ...(days * 86400 !== intervalS || (days > 1 && 31 % days !== 0) ? { note: `cron runs on every ${days}. day of the month` } : {}),
  };
}

export function cronBlock(id: string, jobs: CronJob[], header: string): string {
  const lines = [BEGIN(id), `# ${header}`];
  for (const j of jobs) {
    if (j.note) lines.push(`# ${j.job}: ${j.note}`);
    lines.push(`${j.expression} ${j.command}`);
  }
  lines.push(END(id));
  return lines.join("\n");
}

/** The crontab with this id's block replaced by `block` (or removed when undefined); other lines as they were. */
export function withBlock(crontab: string, id: string, block: string | undefined): string {
  const lines = crontab === "" ? [] : crontab.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let inside = false;
  let placed = false;
  for (const line of lines) {
    if (line === BEGIN(id)) {
      inside = true;
      if (block !== undefined && !placed) {
        out.push(block);
        placed = true;
      }
      continue;
    }
    if (inside) {
      if (line === END(id)) inside = false;
      continue;
    }
    out.push(line);
  }
  if (block !== undefined && !placed) out.push(block);
  return out.length ? `${out.join("\n")}\n` : "";
}

/** This id's block as it is in the crontab, or undefined. */
export function findBlock(crontab: string, id: string): string | undefined {
  const start = crontab.indexOf(`${BEGIN(id)}\n`);
  if (start < 0) return undefined;
  const end = crontab.indexOf(END(id), start);
  return end < 0 ? undefined : crontab.slice(start, end + END(id).length);
}

function fieldMatches(field: string, value: number): boolean {
  if (field === "*") return true;
  const step = /^\*\/(\d+)$/.exec(field);
  if (step) return value % Number(step[1]) === 0;
  return field.split(",").some((part) => Number(part) === value);
}

/**
 * Next time (local time, like cron) the expression fires after `from`. Handles the forms this product writes
 * (`*`, `*\/n`, numbers, lists) in minute, hour and day-of-month; month and weekday must be `*`.
 */
export function nextCronRun(expression: string, from: Date): Date | undefined {
  const [min, hour, dom, month, dow] = expression.trim().split(/\s+/);
  if (!min || !hour || !dom || month !== "*" || dow !== "*") return undefined;
  const t = new Date(from.getTime());
  t.setSeconds(0, 0);
  t.setMinutes(t.getMinutes() + 1);
  for (let i = 0; i < 366 * 24 * 60; i++) {
    // cron's */n on the day of the month counts from day 1
    const day = dom.startsWith("*/") ? t.getDate() - 1 : t.getDate();
    if (fieldMatches(min, t.getMinutes()) && fieldMatches(hour, t.getHours()) && fieldMatches(dom, day)) {
      return t;
    }
    t.setMinutes(t.getMinutes() + 1);
  }
  return undefined;
}
