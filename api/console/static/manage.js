// What a supervisor (or an admin) does in the page rather than with curl: register a subject,
// register (with an OwnTracks phone's settings) or bind its devices, issue a device's broker
// password (shown once), give it zones (zones.js), and issue its monitoring order (Art. 29: at
// most 3 months). What the API refuses is shown with its reason.
import {
  $, api, attempt, el, levelName, localTime, manages, selectSubject, showSecret, state, t, toLocalInput, words,
} from "./core.js";
import { waitingLeaves } from "./leaves.js";
import { showProtectedPersons } from "./prohibitions.js";
import { zoneForm } from "./zones.js";

const KINDS = ["wristband", "phone"];

// The same UTC day `months` later, or that month's last day (as the API counts).
function addMonths(date, months) {
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
  form.hidden = !manages();
  const waiting = await waitingLeaves();
  $("#waiting").replaceChildren(...(waiting ? [el("h3", { textContent: t("leavesWaiting") }), waiting] : []));
  const chosen = form.office_id.value;
  form.level.replaceChildren(...words.levels.map((l) => el("option", { value: l, textContent: levelName(l) })));
  form.office_id.replaceChildren(...[...state.offices.values()]
    .map((o) => el("option", { value: String(o.id), textContent: o.name })));
  if (chosen) form.office_id.value = chosen;
  const subjects = await api("/subjects");
  state.subjects = new Map(subjects.map((s) => [s.id, s]));
  $("#subjects-table").replaceChildren(
    el("tr", {}, ...["personName", "level", "office"].map((k) => el("th", { textContent: t(k) }))),
    ...subjects.map((s) => el("tr", {},
      el("td", {}, el("button", { className: "link", textContent: s.name, onclick: () => selectSubject(s.id) })),
      el("td", { textContent: levelName(s.level) }),
      el("td", { textContent: s.office }))),
  );
  await showProtectedPersons();
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
  const device = deviceForm(subjectId, error);
  return el("div", { id: "subject-manage" },
    el("h3", { textContent: t("newZone") }), zoneForm(detail, error),
    el("h3", { textContent: t("registerDevice") }), device,
    bindForm(detail, error),
    ...(detail.active_order_id === null
      ? [el("h3", { textContent: t("newOrder") }), orderForm(subjectId, detail, error)]
      : [el("h3", { textContent: t("extendOrder") }), extensionForm(detail, error)]),
    error);
}

// A phone or wristband registered and bound to the subject; a phone running the OwnTracks
// app has its topic, and optionally its encryption passphrase and HTTP-mode password.
function deviceForm(subjectId, error) {
  const secret = (name, label, min) => el("label", { className: "owntracks" }, el("span", { textContent: t(label) }),
    el("input", { type: "password", name, autocomplete: "new-password", minLength: min, maxLength: 200 }));
  const form = el("form", { className: "manage", id: "new-device-form" },
    el("label", {}, el("span", { textContent: t("deviceCode") }),
      el("input", { name: "code", required: true, pattern: "[A-Za-z0-9_.\\-]{1,64}" })),
    el("label", {}, el("span", { textContent: t("deviceKind") }),
      el("select", { name: "kind" }, ...KINDS.map((k) => el("option", { value: k, textContent: t(k) })))),
    el("label", { className: "owntracks" }, el("span", { textContent: t("owntracksTopic") }),
      el("input", { name: "owntracks_topic", placeholder: "user/device", pattern: "[A-Za-z0-9_.\\-]{1,64}/[A-Za-z0-9_.\\-]{1,64}" })),
    secret("owntracks_key", "owntracksKey", 1), secret("http_password", "httpPassword", 12),
    el("button", { type: "submit", textContent: t("registerDevice") }));
  const phoneOnly = () => {
    for (const label of form.querySelectorAll(".owntracks")) label.hidden = form.kind.value !== "phone";
  };
  form.kind.onchange = phoneOnly;
  phoneOnly();
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = { code: form.code.value.trim(), kind: form.kind.value, subject_id: subjectId };
    if (form.kind.value === "phone") {
      for (const name of ["owntracks_topic", "owntracks_key", "http_password"]) {
        if (form[name].value) body[name] = name === "owntracks_topic" ? form[name].value.trim() : form[name].value;
      }
    }
    if (await attempt(error, () => api("/devices", { method: "POST", body }))) selectSubject(subjectId);
  };
  return form;
}

// A device the office holds, unbound (a band back from another subject), bound to this one:
// the binding history keeps who carried it when.
function bindForm(detail, error) {
  const subject = detail.subject;
  const form = el("form", { className: "manage", id: "bind-device-form" },
    el("select", { name: "device_id" }),
    el("button", { type: "submit", textContent: t("bind") }));
  const section = el("div", { hidden: true }, el("h3", { textContent: t("bindDevice") }), form);
  api("/devices").then((devices) => {
    const free = devices.filter((d) => d.subject_id === null && d.active && d.office_id === subject.office_id);
    form.device_id.replaceChildren(...free.map((d) => el("option", { value: String(d.id), textContent: `${t(d.kind)} ${d.code}` })));
    section.hidden = free.length === 0;
  }, (failure) => { error.textContent = failure.message; });
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = { subject_id: subject.id };
    if (await attempt(error, () => api(`/devices/${form.device_id.value}`, { method: "PATCH", body }))) selectSubject(subject.id);
  };
  return section;
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

// The order in force extended after review (Art. 29): at most 3 months past its end.
function extensionForm(detail, error) {
  const order = detail.orders.find((o) => o.id === detail.active_order_id);
  const end = new Date(order.ends_at);
  const form = el("form", { className: "manage", id: "extend-order-form" },
    el("label", {}, el("span", { textContent: t("to") }), el("input", { type: "datetime-local", name: "ends_at", required: true, value: toLocalInput(addMonths(end, 3)) })),
    el("label", {}, el("span", { textContent: t("approvedBy") }), el("input", { name: "approved_by", required: true, maxLength: 500 })),
    el("label", {}, el("span", { textContent: t("reviewFinding") }), el("input", { name: "reason", required: true, maxLength: 500 })),
    el("p", { className: "hint", textContent: t("extensionLimit", { end: localTime(addMonths(end, 3)) }) }),
    el("button", { type: "submit", textContent: t("extendOrder") }));
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = {
      ends_at: new Date(form.ends_at.value).toISOString(),
      approved_by: form.approved_by.value.trim(),
      reason: form.reason.value.trim(),
    };
    if (await attempt(error, () => api(`/orders/${order.id}/extensions`, { method: "POST", body }))) selectSubject(detail.subject.id);
  };
  return form;
}

// A device unbound from the subject (kept, for another), or retired (its fixes refused).
export async function changeDevice(device, change, where) {
  if (await attempt(where, () => api(`/devices/${device.id}`, { method: "PATCH", body: change }))) selectSubject(device.subject_id);
}

// A device's broker password, shown this once (only its hash is kept).
export async function issueCredentials(device, where) {
  const issued = await attempt(where, () => api(`/devices/${device.id}/mqtt-credentials`, { method: "POST" }));
  if (!issued) return;
  showSecret(where, t("shownOnce"), t("password"), issued.password, `${t("username")}: ${issued.username}`, issued.note);
}
