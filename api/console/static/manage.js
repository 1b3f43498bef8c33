// What a supervisor (or an admin) does in the page rather than with curl: register a subject,
// register and bind its devices, issue a device's broker password (shown once), and issue
// its monitoring order (Art. 29: at most 3 months; the API's reason when refused).
import { $, SessionEnded, api, el, levelName, localTime, selectSubject, state, t, toLocalInput } from "./core.js";

export const manages = () => ["supervisor", "admin"].includes(state.me?.role);

const LEVELS = ["strict", "normal", "lenient"];
const KINDS = ["wristband", "phone"];

// Runs `work`; a refusal is shown in `where` with the API's words.
async function attempt(where, work) {
  where.textContent = "";
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SessionEnded)) where.textContent = error.message;
    return undefined;
  }
}

// The same UTC day `months` later, or that month's last day (as the API counts).
export function addMonths(date, months) {
  const month = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(month / 12);
  const m = ((month % 12) + 12) % 12;
  const last = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, m, Math.min(date.getUTCDate(), last),
    date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()));
}

// The subjects view: the list, and a new subject ----------------------------------------

export async function showSubjects() {
  const form = $("#new-subject-form");
  const chosen = form.office_id.value;
  form.level.replaceChildren(...LEVELS.map((l) => el("option", { value: l, textContent: levelName(l) })));
  form.office_id.replaceChildren(...[...state.offices.values()]
    .map((o) => el("option", { value: String(o.id), textContent: o.name })));
  if (chosen) form.office_id.value = chosen;
  const subjects = await api("/subjects");
  state.subjects = new Map(subjects.map((s) => [s.id, s]));
  $("#subjects-table").replaceChildren(
    el("tr", {}, ...["name", "level", "office"].map((k) => el("th", { textContent: t(k) }))),
    ...subjects.map((s) => el("tr", {},
      el("td", {}, el("button", { className: "link", textContent: s.name, onclick: () => selectSubject(s.id) })),
      el("td", { textContent: levelName(s.level) }),
      el("td", { textContent: s.office }))),
  );
}

export async function createSubject(event) {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.name.value.trim(), level: form.level.value, office_id: Number(form.office_id.value) };
  const subject = await attempt($("#new-subject-error"), () => api("/subjects", { method: "POST", body }));
  if (!subject) return;
  form.name.value = "";
  state.subjects.set(subject.id, subject);
  selectSubject(subject.id);
}

// On a subject's page ------------------------------------------------------------------

// The management part of a subject's page, for those who manage.
export function manageSection(detail) {
  if (!manages()) return null;
  const subjectId = detail.subject.id;
  const error = el("p", { className: "error", role: "alert" });
  const device = el("form", { className: "manage", id: "new-device-form" },
    el("label", {}, el("span", { textContent: t("deviceCode") }),
      el("input", { name: "code", required: true, pattern: "[A-Za-z0-9_.\\-]{1,64}" })),
    el("label", {}, el("span", { textContent: t("deviceKind") }),
      el("select", { name: "kind" }, ...KINDS.map((k) => el("option", { value: k, textContent: t(k) })))),
    el("button", { type: "submit", textContent: t("registerDevice") }));
  device.onsubmit = async (event) => {
    event.preventDefault();
    const body = { code: device.code.value.trim(), kind: device.kind.value, subject_id: subjectId };
    if (await attempt(error, () => api("/devices", { method: "POST", body }))) selectSubject(subjectId);
  };
  return el("div", { id: "subject-manage" },
    el("h3", { textContent: t("registerDevice") }), device,
    el("h3", { textContent: t("newOrder") }), orderForm(subjectId, detail, error),
    error);
}

function orderForm(subjectId, detail, error) {
  const now = new Date();
  const newest = detail.orders.map((o) => new Date(o.ends_at)).filter((end) => end > now).sort((a, b) => b - a)[0];
  const starts = newest ?? now;
  const form = el("form", { className: "manage", id: "new-order-form" },
    el("label", {}, el("span", { textContent: t("from") }), el("input", { type: "datetime-local", name: "starts_at", required: true })),
    el("label", {}, el("span", { textContent: t("to") }), el("input", { type: "datetime-local", name: "ends_at", required: true })),
    el("label", {}, el("span", { textContent: t("approvedBy") }), el("input", { name: "approved_by", required: true, maxLength: 500 })),
    el("label", {}, el("span", { textContent: t("reason") }), el("input", { name: "reason", required: true, maxLength: 500 })),
    el("p", { className: "hint" }),
    el("button", { type: "submit", textContent: t("issueOrder") }));
  const limit = () => {
    const start = new Date(form.starts_at.value);
    if (!Number.isNaN(start.getTime())) form.querySelector(".hint").textContent = t("orderLimit", { end: localTime(addMonths(start, 3)) });
  };
  form.starts_at.value = toLocalInput(starts);
  form.ends_at.value = toLocalInput(addMonths(starts, 3));
  form.starts_at.oninput = limit;
  limit();
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = {
      starts_at: new Date(form.starts_at.value).toISOString(),
      ends_at: new Date(form.ends_at.value).toISOString(),
      approved_by: form.approved_by.value.trim(),
      reason: form.reason.value.trim(),
    };
    if (await attempt(error, () => api(`/subjects/${subjectId}/orders`, { method: "POST", body }))) selectSubject(subjectId);
  };
  return form;
}

// A device's broker password, shown this once (only its hash is kept).
export async function issueCredentials(device, where) {
  const issued = await attempt(where, () => api(`/devices/${device.id}/mqtt-credentials`, { method: "POST" }));
  if (!issued) return;
  where.replaceChildren(el("div", { className: "secret" },
    el("b", { textContent: t("shownOnce") }),
    el("div", { textContent: `${t("username")}: ${issued.username}` }),
    el("div", {}, `${t("password")}: `, el("code", { className: "password", textContent: issued.password })),
    el("div", { className: "hint", textContent: issued.note })));
}
