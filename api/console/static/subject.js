// A subject's page: who they are, their devices (locate now, check-in, with each command's
// state as it goes), zones, order and leave, their alerts with each alert's history, and
// their trail (a recorded location read) played back on the map, their frequent places.
import {
  $, SessionEnded, acts, ago, api, attempt, el, levelName, localTime, manages, t, toLocalInput,
} from "./core.js";
import { fitInView, layers, shown } from "./map.js";
import { leaveSection } from "./leaves.js";
import { changeDevice, issueCredentials, manageSection } from "./manage.js";
import { editShape, editWhen, endAssignment } from "./zones.js";
import { alertItem } from "./queue.js";
import { prohibitionsSection } from "./prohibitions.js";
import { redrawPlaces, residenceRow, resetPlaces } from "./places.js";

let openSubjectId = null;
let playback;
let commandsPoll;
let trailCounts = null; // the trail shown: its points and the fixes in its range
const COMMANDS_EVERY_MS = 2000;

export const shownSubject = () => openSubjectId;

function table(rows) {
  return el("table", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c, i) => el(i === 0 ? "th" : "td", { textContent: c ?? "" })))));
}

function describeSchedule(schedule) {
  if (!schedule) return t("always");
  const parts = (schedule.weekly || []).map((w) => `${w.days.map((d) => t(`day_${d}`)).join("")} ${w.start}-${w.end}`);
  parts.push(...(schedule.once || []).map((w) => `${localTime(w.start)} - ${localTime(w.end)}`));
  return parts.join("; ");
}

export async function openSubject(subjectId) {
  openSubjectId = subjectId;
  await renderSubject();
  const form = $("#trail-form");
  const until = new Date(Date.now() + 60 * 1000); // the inputs drop seconds: past now
  const since = new Date(until.getTime() - 6 * 3600 * 1000);
  form.since.value = toLocalInput(since);
  form.until.value = toLocalInput(until);
  $("#trail-player").hidden = true;
  $("#trail-info").textContent = "";
  trailCounts = null;
  resetPlaces();
  layers.trail.clearLayers();
  $("#command-error").textContent = "";
  clearInterval(commandsPoll);
  commandsPoll = setInterval(refreshCommands, COMMANDS_EVERY_MS);
  await Promise.all([refreshSubjectAlerts(), refreshCommands()]);
}

// The open subject's page drawn again (in another language), its trail left as it is.
export async function redrawSubject() {
  if (openSubjectId === null) return;
  if (trailCounts) $("#trail-info").textContent = t("trailInfo", trailCounts);
  redrawPlaces();
  await renderSubject();
  await Promise.all([refreshSubjectAlerts(), refreshCommands()]);
}

async function renderSubject() {
  const detail = await api(`/subjects/${openSubjectId}`);
  if (detail.subject.id !== openSubjectId) return; // another subject's page opened meanwhile
  const s = detail.subject;
  const order = detail.orders.find((o) => o.id === detail.active_order_id);
  const now = Date.now();
  const leave = detail.leaves.find((l) => l.state === "approved" && new Date(l.ends_at).getTime() > now);
  const facts = table([
    [t("office"), s.office],
    [t("level"), levelName(s.level)],
    [t("order"), order ? t("orderUntil", { end: localTime(order.ends_at), days: Math.ceil((new Date(order.ends_at) - now) / 86400000) }) : t("noOrder")],
    [t("leave"), leave ? `${leave.destination}: ${localTime(leave.starts_at)} - ${localTime(leave.ends_at)}` : t("none")],
  ]);
  facts.append(residenceRow(detail, renderSubject));
  $("#subject-body").replaceChildren(
    el("h2", { textContent: s.name }),
    facts,
    el("h3", { textContent: t("devices") }),
    devicesTable(detail.devices),
    el("h3", { textContent: t("zones") }),
    zonesTable(detail.assignments),
    prohibitionsSection(s.id),
    ...(detail.device_history.length ? [el("h3", { textContent: t("bindings") }), bindingsTable(detail.device_history)] : []),
    el("h3", { textContent: t("leaves") }),
    leaveSection(detail),
    ...[manageSection(detail)].filter(Boolean), // none for those who do not manage
  );
  $("#subject").hidden = false;
}

// The subject's zones; those who manage may edit a zone's shape on the map.
function zonesTable(assignments) {
  const error = el("p", { className: "error", role: "alert" });
  const rows = assignments.map((a) => {
    const buttons = el("td", { className: "zone-actions" });
    const row = el("tr", {},
      el("th", { textContent: a.zone_name }), el("td", { textContent: t(`role_${a.role}`) }),
      el("td", { textContent: describeSchedule(a.schedule) }), buttons);
    if (manages() && a.leave_id === null) { // a leave's destination follows the leave
      buttons.append(
        el("button", { className: "edit-shape", textContent: t("editShape"), onclick: () => editShape(a, error, buttons) }),
        el("button", { className: "edit-when", textContent: t("changeWhen"), onclick: () => editWhen(a, error, row) }),
        el("button", { className: "end", textContent: t("endZone"), onclick: () => endAssignment(a, error) }));
    }
    return row;
  });
  return el("div", {}, el("table", { id: "zones-table" }, ...rows), error);
}

// Who carried which device when (devices unbound since included).
function bindingsTable(bindings) {
  return el("table", { id: "bindings-table" }, ...bindings.map((b) => el("tr", {},
    el("th", { textContent: b.device_code }),
    el("td", { textContent: `${localTime(b.bound_at)} · ${b.bound_by}` }),
    el("td", { textContent: b.unbound_at ? `${t("unbound")} ${localTime(b.unbound_at)} · ${b.unbound_by}` : t("boundNow") }))));
}

// A user who may act (not an auditor) asks an active device: locate now, or (a native device:
// an OwnTracks phone has no such command) a check-in.
function devicesTable(devices) {
  const secret = el("div", { id: "device-secret" });
  const table = el("table", { id: "devices-table" }, ...devices.map((d) => {
    const buttons = [];
    if (acts() && d.active) {
      buttons.push(el("button", { className: "locate", textContent: t("locateNow"), onclick: () => command(d, "locate") }));
      if (!d.owntracks_topic) buttons.push(el("button", { className: "check-in", textContent: t("checkIn"), onclick: () => command(d, "check_in") }));
    }
    if (manages() && d.active && !d.owntracks_topic) {
      buttons.push(el("button", { className: "credentials", textContent: t("brokerPassword"), onclick: () => issueCredentials(d, secret) }));
    }
    if (manages()) {
      buttons.push(el("button", { className: "unbind", textContent: t("unbind"), onclick: () => changeDevice(d, { subject_id: null }, secret) }));
      if (d.active) buttons.push(el("button", { className: "retire", textContent: t("retire"), onclick: () => changeDevice(d, { active: false }, secret) }));
    }
    return el("tr", {},
      el("th", { textContent: `${t(d.kind)} ${d.code}` }),
      el("td", { textContent: d.active ? (d.battery != null ? `${d.battery}%` : "–") : t("retired") }),
      el("td", { textContent: d.last_fix_at ? `${t("lastSeen")} ${ago(d.last_fix_at)}` : t("neverSeen") }),
      el("td", { className: "device-actions" }, ...buttons));
  }));
  return el("div", {}, table, secret);
}

async function command(device, kind) {
  const issued = await attempt($("#command-error"), () => api(`/devices/${device.id}/commands`, { method: "POST", body: { kind } }));
  if (issued) await refreshCommands();
}

async function refreshCommands() {
  if (openSubjectId === null) return;
  const subjectId = openSubjectId;
  let commands;
  try {
    commands = await api(`/subjects/${subjectId}/commands?limit=10`);
  } catch (error) {
    if (!(error instanceof SessionEnded)) $("#command-error").textContent = error.message;
    return;
  }
  if (subjectId !== openSubjectId) return; // another subject's page opened meanwhile
  $("#subject-commands").replaceChildren(...(commands.length ? commands.map((c) => {
    const fix = c.answer?.fix_time ? ` · ${t("fixAt", { time: localTime(c.answer.fix_time) })}` : "";
    const error = c.error ? ` · ${c.error}` : "";
    return el("li", {
      className: `command ${c.state}`,
      textContent: `${localTime(c.issued_at)} ${t(`cmd_${c.kind}`)} ${c.device_code} · ${t(`cstate_${c.state}`)} · ${c.issued_by}${fix}${error}`,
    });
  }) : [el("li", { textContent: t("noCommands") })]));
}

export function closeSubject() {
  $("#subject").hidden = true;
  openSubjectId = null;
  clearInterval(playback);
  clearInterval(commandsPoll);
  layers.trail?.clearLayers(); // an auditor's console has no map
}

export async function refreshSubjectAlerts() {
  if (openSubjectId === null) return;
  const states = ["open", "acknowledged", "resolved", "dismissed"].map((s) => `state=${s}`).join("&");
  const alerts = await api(`/alerts?${states}&subject_id=${openSubjectId}&limit=50`);
  alerts.sort((a, b) => b.opened_at.localeCompare(a.opened_at));
  $("#subject-alerts").replaceChildren(...alerts.map((a) => {
    const item = alertItem(a, { actions: false });
    const events = el("ul", { className: "events" });
    const more = el("button", {
      className: "link", textContent: t("history"),
      onclick: async () => {
        const steps = await api(`/alerts/${a.id}/events`);
        events.replaceChildren(...steps.map((e) => el("li", { textContent: `${localTime(e.at)} ${t(`action_${e.action}`)} · ${e.actor}${e.note ? `: ${e.note}` : ""}` })));
      },
    });
    item.append(more, events);
    return item;
  }));
}

export async function showTrail(event) {
  event.preventDefault();
  const form = event.target;
  const since = new Date(form.since.value).toISOString();
  const until = new Date(form.until.value).toISOString();
  const query = new URLSearchParams({ since, until, purpose: form.purpose.value, max_points: "2000" });
  let trail;
  try {
    trail = await api(`/subjects/${openSubjectId}/trail?${query}`);
  } catch (error) {
    if (!(error instanceof SessionEnded)) $("#trail-info").textContent = error.message;
    return;
  }
  layers.trail.clearLayers();
  const points = trail.points.map((p) => shown(p.lon, p.lat));
  trailCounts = { shown: trail.points.length, total: trail.fixes_in_range };
  $("#trail-info").textContent = t("trailInfo", trailCounts);
  if (!points.length) return;
  L.polyline(points, { color: "#7a1fa2", weight: 3 }).addTo(layers.trail);
  const cursor = L.circleMarker(points[0], { radius: 8, color: "#7a1fa2", fillOpacity: 0.9 }).addTo(layers.trail);
  fitInView(L.latLngBounds(points));
  const slider = $("#trail-slider");
  slider.max = String(points.length - 1);
  slider.value = "0";
  const moveTo = (i) => {
    cursor.setLatLng(points[i]);
    const p = trail.points[i];
    $("#trail-at").textContent = `${localTime(p.time)} ±${Math.round(p.accuracy)} m ${p.source}`;
  };
  slider.oninput = () => moveTo(Number(slider.value));
  $("#trail-play").onclick = () => {
    clearInterval(playback);
    let i = Number(slider.value) >= points.length - 1 ? 0 : Number(slider.value);
    playback = setInterval(() => {
      moveTo(i);
      slider.value = String(i);
      if (++i >= points.length) clearInterval(playback);
    }, Math.max(20, 8000 / points.length));
  };
  moveTo(0);
  $("#trail-player").hidden = false;
}
