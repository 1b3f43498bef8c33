// The auditor's view (全程留痕): who read whose locations and why, every change made through
// the API, and what retention deleted; filtered, and exported as CSV for a report.
import { $, SessionEnded, api, el, localTime, t } from "./core.js";

const KINDS = {
  "location-reads": {
    query: ["username", "subject_id", "since", "until"],
    columns: ["at", "username", "subject_id", "what", "from_time", "to_time", "purpose", "fixes"],
  },
  changes: {
    query: ["username", "since", "until"],
    columns: ["at", "username", "action", "target", "target_id", "office_id", "detail"],
  },
  purges: {
    query: [],
    columns: ["purged_at", "subject_id", "order_id", "period_start", "period_end", "fixes_deleted"],
  },
};
const TIMES = new Set(["at", "from_time", "to_time", "purged_at", "period_start", "period_end"]);

let shown = { kind: "location-reads", rows: [] };

function cell(row, column) {
  const value = row[column];
  if (value === null || value === undefined) return "";
  if (TIMES.has(column)) return localTime(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function filters(form, kind) {
  const query = new URLSearchParams({ limit: "1000" });
  const wants = KINDS[kind].query;
  const subject = form.subject_id.value.trim();
  if (wants.includes("username") && form.username.value.trim()) query.set("username", form.username.value.trim());
  if (wants.includes("subject_id") && subject) query.set("subject_id", subject);
  if (kind === "changes" && subject) {
    query.set("target", "subject");
    query.set("target_id", subject);
  }
  // a day's range in the officer's time zone: from its first moment to the next day's
  if (form.since.value) query.set("since", new Date(`${form.since.value}T00:00`).toISOString());
  if (form.until.value) query.set("until", new Date(new Date(`${form.until.value}T00:00`).getTime() + 86400000).toISOString());
  return query;
}

export async function showAudit(event) {
  event?.preventDefault();
  const form = $("#audit-form");
  const kind = form.kind.value;
  let rows;
  try {
    rows = await api(`/audit/${kind}?${filters(form, kind)}`);
  } catch (error) {
    if (!(error instanceof SessionEnded)) $("#audit-info").textContent = error.message;
    return;
  }
  const subject = form.subject_id.value.trim();
  if (kind === "purges" && subject) rows = rows.filter((r) => String(r.subject_id) === subject);
  shown = { kind, rows };
  const { columns } = KINDS[kind];
  $("#audit-info").textContent = t("auditRows", { n: rows.length });
  $("#audit-table").replaceChildren(
    el("tr", {}, ...columns.map((c) => el("th", { textContent: t(`col_${c}`) }))),
    ...rows.map((r) => el("tr", {}, ...columns.map((c) => el("td", { textContent: cell(r, c) })))),
  );
}

// RFC 4180 quoting; a cell a spreadsheet would run as a formula (= + - @) is kept as text.
function csvCell(text) {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function downloadAuditCsv() {
  const { kind, rows } = shown;
  const { columns } = KINDS[kind];
  const raw = (r, c) => (r[c] === null || r[c] === undefined ? "" : typeof r[c] === "object" ? JSON.stringify(r[c]) : String(r[c]));
  const lines = [columns.join(","), ...rows.map((r) => columns.map((c) => csvCell(raw(r, c))).join(","))];
  const blob = new Blob([`${lines.join("\r\n")}\r\n`], { type: "text/csv" });
  const link = el("a", { href: URL.createObjectURL(blob), download: `ccmon-audit-${kind}.csv` });
  link.click();
  URL.revokeObjectURL(link.href);
}
