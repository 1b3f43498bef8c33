// A subject's zones, for those who manage them: drawn on the map (a polygon, a circle, a
// corridor along a route) or imported from a GeoJSON file, to stay in or out of, always or on
// days and hours; a zone's shape edited on the map, its days and hours changed, or ended.
import { api, attempt, el, selectSubject, state, t } from "./core.js";
import { drawShape, drawnGeometry, fitInView, loadZones, zoneLayers } from "./map.js";

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
export function zoneForm(detail, error) {
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

const IMPORT_MAX_ZONES = 50;

// The zones in a GeoJSON file: a geometry, a Feature, or a FeatureCollection (each feature a
// zone, named by its `name` property or the form's name with a number).
async function geoJsonZones(file, name) {
  const most = state.config.max_body_bytes; // what the API takes in one request
  if (file.size > most) throw new Error(t("importTooBig", { mb: (most / 1048576).toFixed(1) }));
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
