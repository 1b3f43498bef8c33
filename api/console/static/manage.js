// What a supervisor (or an admin) does in the page rather than with curl: register a subject,
// register (with an OwnTracks phone's settings) or bind its devices, issue a device's broker
// password (shown once), draw or import its zones and edit their shapes, with when they
// apply, and issue its monitoring order (Art. 29: at most 3 months). What the API refuses is
// shown with its reason.
import {
  $, api, attempt, el, levelName, localTime, manages, selectSubject, showSecret, state, t, toLocalInput, words,
} from "./core.js";
import { waitingLeaves } from "./leaves.js";
import { drawShape, drawnGeometry, fitInView, loadZones, zoneLayers } from "./map.js";

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

const DAYS = [0, 1, 2, 3, 4, 5, 6];

// When an assignment applies: always, or on days and hours (one weekly window, from
// `initial`), read back as a sentence with what the rule `roleOf()` asks.
function whenPicker(roleOf, initial = null) {
  const first = initial?.weekly?.[0];
  const when = el("select", { name: "when" }, el("option", { value: "always", textContent: t("always") }),
    el("option", { value: "weekly", textContent: t("weekly") }));
  when.value = first ? "weekly" : "always";
  const weekly = el("fieldset", { className: "weekly" },
    ...DAYS.map((d) => el("label", {}, el("input", {
      type: "checkbox", name: "day", value: String(d), checked: !first || first.days.includes(d),
    }), t(`day_${d}`))),
    el("input", { type: "time", name: "start", value: first?.start ?? "22:00" }), "–",
    el("input", { type: "time", name: "end", value: first?.end ?? "06:00" }));
  const line = el("p", { className: "hint sentence" });
  const days = () => [...weekly.querySelectorAll("input[name=day]:checked")].map((c) => Number(c.value));
  const [start, end] = weekly.querySelectorAll("input[type=time]");
  const schedule = () => (when.value === "always" ? {} : { weekly: [{ days: days(), start: start.value, end: end.value }] });
  const sentence = () => {
    weekly.hidden = when.value === "always";
    const chosen = days();
    const on = chosen.length === 7 ? t("everyDay") : chosen.map((d) => t(`day_${d}`)).join("");
    const said = when.value === "always" ? t("always") : `${on} ${start.value}-${end.value}`;
    line.textContent = `${said}: ${t(`role_${roleOf()}`)}`;
  };
  return {
    nodes: [el("label", {}, el("span", { textContent: t("when") }), when), weekly, line],
    schedule,
    sentence,
  };
}

// An assignment's days and hours changed (a curfew moved), below its row in the zones table;
// offered where the page can say the whole schedule again (always, or one weekly window).
export function editWhen(assignment, where, row) {
  const schedule = assignment.schedule;
  if (schedule && ((schedule.weekly ?? []).length > 1 || (schedule.once ?? []).length)) return;
  const picker = whenPicker(() => assignment.role, schedule);
  const form = el("form", { className: "manage when-form" }, ...picker.nodes,
    el("button", { type: "submit", textContent: t("saveWhen") }),
    el("button", { type: "button", textContent: t("cancel"), onclick: () => editor.remove() }));
  const editor = el("tr", {}, el("td", { colSpan: 4 }, form));
  form.oninput = picker.sentence;
  form.onchange = picker.sentence;
  picker.sentence();
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = { schedule: picker.schedule() };
    const path = `/subjects/${assignment.subject_id}/assignments/${assignment.id}`;
    if (await attempt(where, () => api(path, { method: "PATCH", body }))) selectSubject(assignment.subject_id);
  };
  row.after(editor);
}

// The subject no longer held to the zone (the assignment is kept, ended: alerts refer to it).
export async function endAssignment(assignment, where) {
  if (!window.confirm(t("endZoneConfirm", { name: assignment.zone_name }))) return;
  const path = `/subjects/${assignment.subject_id}/assignments/${assignment.id}`;
  if ((await attempt(where, () => api(path, { method: "DELETE" }))) !== undefined) {
    await loadZones();
    selectSubject(assignment.subject_id);
  }
}

// A zone drawn on the map (a polygon, a circle, or a corridor along a drawn route) or imported
// from a GeoJSON file (a district's outline), assigned to the subject to stay in or out of,
// always or in weekly windows ("every day 22:00-06:00: must stay inside").
function zoneForm(detail, error) {
  const subject = detail.subject;
  const picker = whenPicker(() => form.role.value);
  const form = el("form", { className: "manage", id: "new-zone-form" },
    el("label", {}, el("span", { textContent: t("name") }), el("input", { name: "name", required: true, maxLength: 200 })),
    el("label", {}, el("span", { textContent: t("zoneRole") }),
      el("select", { name: "role" }, ...["inclusion", "exclusion"].map((r) => el("option", { value: r, textContent: t(`role_${r}`) })))),
    ...picker.nodes,
    el("div", { className: "draw" },
      el("button", { type: "button", className: "polygon", textContent: t("drawPolygon"), onclick: () => draw("Polygon") }),
      el("button", { type: "button", className: "circle", textContent: t("drawCircle"), onclick: () => draw("Circle") }),
      el("button", { type: "button", className: "corridor", textContent: t("drawCorridor"), onclick: () => draw("Line") }),
      el("label", {}, el("span", { textContent: t("corridorWidth") }),
        el("input", { type: "number", name: "width_m", min: 10, max: 5000, step: 10, value: 200 }))),
    el("div", { className: "import" },
      el("label", {}, el("span", { textContent: t("importGeoJSON") }),
        el("input", { type: "file", name: "file", accept: ".geojson,.json,application/geo+json,application/json" })),
      el("label", {}, el("span", { textContent: t("coordinates") }),
        el("select", { name: "file_crs" }, el("option", { value: "wgs84", textContent: "WGS-84" }),
          el("option", { value: "gcj02", textContent: "GCJ-02" })))));
  form.oninput = picker.sentence;
  form.onchange = picker.sentence;
  picker.sentence();
  form.onsubmit = (event) => event.preventDefault();

  // Each zone created and assigned; the page drawn again once all are (or one is refused);
  // imported zones are brought into view.
  async function save(zones, crs, { fit = false } = {}) {
    const saved = [];
    for (const { geometry, name } of zones) {
      const feature = { type: "Feature", geometry, properties: { name, office_id: subject.office_id } };
      const zone = await attempt(error, () => api(`/zones?crs=${crs}`, { method: "POST", body: feature }));
      if (!zone) break;
      const body = { zone_id: zone.id, role: form.role.value, schedule: picker.schedule() };
      if (!(await attempt(error, () => api(`/subjects/${subject.id}/assignments`, { method: "POST", body })))) break;
      saved.push(zone.id);
    }
    if (!saved.length) return;
    await loadZones();
    if (fit) fitInView(L.latLngBounds(saved.map((id) => zoneLayers.get(id).getBounds())));
    // a refusal part way through an import stays in view; the page shows the rest when reopened
    if (!error.textContent) selectSubject(subject.id);
  }

  async function draw(shape) {
    if (!form.reportValidity()) return;
    error.textContent = "";
    const geometry = await drawShape(shape, Number(form.width_m.value));
    save([{ name: form.name.value.trim(), geometry }], state.config.tiles_crs);
  }

  form.file.onchange = async () => {
    const file = form.file.files[0];
    form.file.value = ""; // the same file may be chosen again after a refusal
    if (!file || !form.reportValidity()) return;
    const zones = await geoJsonZones(file, form.name.value.trim()).catch((failure) => {
      error.textContent = failure.message;
      return [];
    });
    if (zones.length) save(zones, form.file_crs.value, { fit: true });
  };
  return form;
}

const IMPORT_MAX_BYTES = 20 * 1024 * 1024;
const IMPORT_MAX_ZONES = 50;

// The zones in a GeoJSON file: a geometry, a Feature, or a FeatureCollection (each feature a
// zone, named by its `name` property or the form's name with a number).
async function geoJsonZones(file, name) {
  if (file.size > IMPORT_MAX_BYTES) throw new Error(t("importTooBig", { mb: IMPORT_MAX_BYTES / 1048576 }));
  let parsed;
  try {
    parsed = JSON.parse(await file.text());
  } catch {
    throw new Error(t("notGeoJSON", { file: file.name }));
  }
  const features = parsed?.type === "FeatureCollection" ? parsed.features
    : parsed?.type === "Feature" ? [parsed] : [{ geometry: parsed }];
  if (!Array.isArray(features) || !features.length || !features.every((f) => f?.geometry?.type)) {
    throw new Error(t("notGeoJSON", { file: file.name }));
  }
  if (features.length > IMPORT_MAX_ZONES) throw new Error(t("importTooMany", { n: features.length, max: IMPORT_MAX_ZONES }));
  return features.map((f, i) => {
    const own = f.properties?.name;
    const named = features.length === 1 ? name : typeof own === "string" && own.trim() ? own.trim() : `${name} ${i + 1}`;
    return { geometry: f.geometry, name: named.slice(0, 200) };
  });
}

// A zone's shape edited on the map (drag its vertices, or a circle's centre and edge), then
// saved for every subject it applies to; or left as it was.
export function editShape(assignment, where, buttons) {
  const layer = zoneLayers.get(assignment.zone_id);
  const feature = state.zones.find((f) => f.id === assignment.zone_id);
  if (!layer || !feature) return;
  const shape = feature.geometry.type;
  fitInView(layer.getBounds());
  layer.pm.enable({ snappable: false, allowSelfIntersection: true });
  const done = async () => {
    layer.pm.disable();
    await loadZones();
    selectSubject(assignment.subject_id);
  };
  const save = async () => {
    const body = { type: "Feature", geometry: drawnGeometry(layer, shape, feature.geometry.width_m), properties: feature.properties };
    const crs = state.config.tiles_crs;
    if (await attempt(where, () => api(`/zones/${feature.id}?crs=${crs}`, { method: "PUT", body }))) await done();
  };
  buttons.replaceChildren(
    el("button", { type: "button", className: "save-shape", textContent: t("saveShape"), onclick: save }),
    el("button", { type: "button", className: "cancel-shape", textContent: t("cancel"), onclick: done }));
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
