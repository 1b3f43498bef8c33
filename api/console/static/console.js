// The duty officer console: the live map and the alert queue of the officer's offices, a
// subject's page with its trail, and the daily report. Talks only to ccmon's own API
// (REST under /api/v1 and the live WebSocket); Leaflet, Chart.js and gcoord are served from
// ccmon's own static files.
import { I18N, KINDS } from "./i18n.js";

const API = "/api/v1";
const $ = (selector, root = document) => root.querySelector(selector);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

// Language ------------------------------------------------------------------------------

let lang = localStorage.getItem("ccmon.lang") || (navigator.language.startsWith("zh") ? "zh" : "en");

function t(key, vars = {}) {
  const text = I18N[lang][key] ?? I18N.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? "");
}

function applyLanguage() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}

function toggleLanguage() {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("ccmon.lang", lang);
  applyLanguage();
  fillKindFilter();
  renderQueue();
  renderMarkers();
}

const kindName = (kind) => t(`kind_${kind}`);
const levelName = (level) => t(`level_${level}`);

function ago(iso) {
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 90) return t("secondsAgo", { n: Math.round(s) });
  if (s < 5400) return t("minutesAgo", { n: Math.round(s / 60) });
  if (s < 129600) return t("hoursAgo", { n: Math.round(s / 3600) });
  return t("daysAgo", { n: Math.round(s / 86400) });
}

const localTime = (iso) => new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB");

// Signing in ----------------------------------------------------------------------------

const session = {
  get access() { return sessionStorage.getItem("ccmon.access"); },
  get refresh() { return sessionStorage.getItem("ccmon.refresh"); },
  store(tokens) {
    sessionStorage.setItem("ccmon.access", tokens.access_token);
    sessionStorage.setItem("ccmon.refresh", tokens.refresh_token);
    sessionStorage.setItem("ccmon.refreshed", String(Date.now()));
  },
  clear() { for (const k of ["access", "refresh", "refreshed"]) sessionStorage.removeItem(`ccmon.${k}`); },
  age() { return Date.now() - Number(sessionStorage.getItem("ccmon.refreshed") || 0); },
};

class SessionEnded extends Error {}

async function refreshTokens() {
  const response = await fetch(`${API}/auth/refresh`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh }),
  });
  if (!response.ok) return false;
  session.store(await response.json());
  return true;
}

// A REST call with the access token; refreshed once on a 401, else back to the login page.
async function api(path, { method = "GET", body, raw = false } = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = { authorization: `Bearer ${session.access}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${API}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && attempt === 0 && session.refresh && (await refreshTokens())) continue;
    if (response.status === 401) {
      showLogin(t("sessionEnded"));
      throw new SessionEnded();
    }
    if (!response.ok) {
      const detail = await response.json().then((j) => j.detail, () => response.statusText);
      throw new Error(typeof detail === "string" ? detail : detail.map((d) => d.msg).join("; "));
    }
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }
  throw new SessionEnded();
}

function showLogin(message = "") {
  stopLive();
  session.clear();
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  unlockSound();
  const form = new FormData(event.target);
  const response = await fetch(`${API}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  if (!response.ok) {
    const detail = await response.json().then((j) => j.detail, () => "");
    $("#login-error").textContent = response.status === 429 ? detail : t("wrongPassword");
    return;
  }
  session.store(await response.json());
  event.target.reset();
  await start();
}

async function signOut() {
  try { await api("/auth/logout", { method: "POST" }); } catch { /* the session is gone either way */ }
  showLogin();
}

// Keep the access token fresh while the page is open (the session lasts while it is used).
setInterval(() => {
  if (session.refresh && session.age() > 10 * 60 * 1000) refreshTokens();
}, 60 * 1000);

// State -----------------------------------------------------------------------------------

const state = {
  config: null,
  me: null,
  offices: new Map(),
  subjects: new Map(),
  positions: new Map(), // device code -> position
  alerts: new Map(), // alert id -> alert (open or acknowledged, or closed since loading)
  fresh: new Set(), // alert ids opened while watching
  cursor: null,
};

// Map -------------------------------------------------------------------------------------

let map;
const layers = {};

function shown(lon, lat) {
  // Positions are WGS-84; a Chinese provider's tiles are GCJ-02: draw where its map is.
  if (state.config.tiles_crs !== "gcj02") return [lat, lon];
  const [x, y] = gcoord.transform([lon, lat], gcoord.WGS84, gcoord.GCJ02);
  return [y, x];
}

function setUpMap() {
  if (map) return;
  map = L.map("map", { zoomControl: true, attributionControl: true }).setView([30.66, 104.06], 11);
  if (state.config.tiles_url) {
    L.tileLayer(state.config.tiles_url, {
      attribution: state.config.tiles_attribution, maxZoom: state.config.tiles_max_zoom,
    }).addTo(map);
  }
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  layers.zones = L.layerGroup().addTo(map);
  layers.accuracy = L.layerGroup().addTo(map);
  layers.devices = L.layerGroup().addTo(map);
  layers.trail = L.layerGroup().addTo(map);
}

async function loadZones() {
  const crs = state.config.tiles_crs;
  const zones = await api(`/zones?crs=${crs}`);
  layers.zones.clearLayers();
  const bounds = [];
  for (const feature of zones.features) {
    const g = feature.geometry;
    const name = feature.properties.name;
    let layer;
    if (g.type === "Circle") {
      layer = L.circle([g.center[1], g.center[0]], { radius: g.radius_m });
    } else if (g.type === "Corridor") {
      layer = L.polyline(g.coordinates.map(([x, y]) => [y, x]), { dashArray: "6 4" });
    } else {
      layer = L.geoJSON(g);
    }
    layer.setStyle?.({ color: "#5a6b8c", weight: 1.5, fillOpacity: 0.06 });
    layer.bindTooltip(el("span", { textContent: name })); // a name is text, never markup
    layer.addTo(layers.zones);
    bounds.push(layer.getBounds());
  }
  return bounds;
}

function renderMarkers() {
  if (!map) return;
  layers.devices.clearLayers();
  layers.accuracy.clearLayers();
  const staleMs = state.config.stale_after_s * 1000;
  for (const p of state.positions.values()) {
    const subject = state.subjects.get(p.subject_id);
    const stale = Date.now() - new Date(p.time).getTime() > staleMs;
    const at = shown(p.lon, p.lat);
    L.circle(at, {
      radius: p.accuracy, weight: 1, color: stale ? "#9aa0aa" : p.device_kind === "phone" ? "#2457c5" : "#c85a00",
      fillOpacity: 0.08, interactive: false,
    }).addTo(layers.accuracy);
    const badge = el("div", {
      className: `device ${p.device_kind}${stale ? " stale" : ""}`,
      textContent: t(p.device_kind === "phone" ? "phoneShort" : "wristbandShort"),
    });
    Object.assign(badge.dataset, { subject: String(p.subject_id), device: p.device_code });
    const icon = L.divIcon({ className: "", html: badge, iconSize: [20, 20] });
    const name = subject ? subject.name : `#${p.subject_id}`;
    // Built from text nodes: what officers typed (a subject's name) is never parsed as HTML.
    const tip = el("div", {}, `${name} · ${t(p.device_kind)} ${p.device_code}`, el("br"),
      `${ago(p.time)} · ±${Math.round(p.accuracy)} m${p.battery != null ? ` · ${p.battery}%` : ""}`);
    L.marker(at, { icon, title: `${name} ${p.device_code}` })
      .bindTooltip(tip, { className: "age" })
      .on("click", () => openSubject(p.subject_id))
      .addTo(layers.devices);
  }
}
setInterval(renderMarkers, 15000); // ages and greying move on with the clock

// Alerts ----------------------------------------------------------------------------------

const SEVERITY_RANK = { critical: 0, high: 1, normal: 2 };

async function loadAlerts() {
  const alerts = await api("/alerts?state=open&state=acknowledged&limit=1000");
  state.alerts = new Map(alerts.map((a) => [a.id, a]));
  renderQueue();
}

function fillKindFilter() {
  const select = $("#filter-kind");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "", textContent: t("allKinds") }),
    ...KINDS.map((k) => el("option", { value: k, textContent: kindName(k) })));
  select.value = chosen;
  const offices = $("#filter-office");
  const office = offices.value;
  offices.replaceChildren(el("option", { value: "", textContent: t("allOffices") }),
    ...[...state.offices.values()].map((o) => el("option", { value: String(o.id), textContent: o.name })));
  offices.value = office;
}

function visibleAlerts() {
  const wantState = $("#filter-state").value;
  const kind = $("#filter-kind").value;
  const office = $("#filter-office").value;
  return [...state.alerts.values()]
    .filter((a) => (wantState === "live" ? ["open", "acknowledged"].includes(a.state) : a.state === wantState))
    .filter((a) => !kind || a.kind === kind)
    .filter((a) => !office || String(state.subjects.get(a.subject_id)?.office_id) === office)
    .sort((a, b) => (SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]) || (b.opened_at.localeCompare(a.opened_at)));
}

function alertItem(a, { actions = true } = {}) {
  const item = el("li", { className: `alert ${a.severity}${state.fresh.has(a.id) ? " fresh" : ""}` });
  item.dataset.alert = a.id;
  const subject = el("button", { className: "link", textContent: a.subject_name, onclick: () => openSubject(a.subject_id) });
  item.append(
    el("div", { className: "top" },
      el("span", { className: "kind", textContent: kindName(a.kind) }),
      el("span", { className: `badge ${a.state}`, textContent: t(`state_${a.state}`) })),
    el("div", {}, subject, a.zone_name ? ` · ${a.zone_name}` : "", a.device_code ? ` · ${a.device_code}` : ""),
    el("div", { className: "meta", textContent: `${localTime(a.opened_at)} (${ago(a.opened_at)})${a.count > 1 ? ` · ×${a.count}` : ""} · ${a.message}` }),
  );
  if (actions && ["open", "acknowledged"].includes(a.state)) {
    const note = el("input", { placeholder: t("note"), className: "note" });
    const act = (action) => async () => {
      try {
        const body = note.value ? { note: note.value } : {};
        const changed = await api(`/alerts/${a.id}/${action}`, { method: "POST", body });
        state.alerts.set(changed.id, changed);
        state.fresh.delete(changed.id);
        renderQueue();
      } catch (error) {
        if (!(error instanceof SessionEnded)) alert(error.message);
      }
    };
    const buttons = [];
    if (a.state === "open") buttons.push(el("button", { textContent: t("acknowledge"), className: "acknowledge", onclick: act("acknowledge") }));
    buttons.push(el("button", { textContent: t("resolve"), className: "resolve", onclick: act("resolve") }));
    buttons.push(el("button", { textContent: t("dismiss"), className: "dismiss", onclick: act("dismiss") }));
    item.append(el("div", { className: "actions" }, note, ...buttons));
  }
  return item;
}

function renderQueue() {
  if (!state.me) return;
  const alerts = visibleAlerts();
  $("#alerts").replaceChildren(...alerts.map((a) => alertItem(a)));
  $("#queue-count").textContent = String(alerts.length);
  const critical = [...state.alerts.values()].some((a) => state.fresh.has(a.id) && a.severity === "critical" && a.state === "open");
  $("#alarm").hidden = !critical;
}

// Sound: a browser plays sound only after the user has interacted with the page (signing in).
let audio;
function unlockSound() {
  audio = audio || new AudioContext();
  audio.resume();
}

function alarm() {
  if (!audio) return;
  const now = audio.currentTime;
  for (const [i, freq] of [880, 660, 880].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.25, now + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.001, now + i * 0.25 + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.25);
    osc.stop(now + i * 0.25 + 0.23);
  }
}

// Live feed -------------------------------------------------------------------------------

let socket;
let retry;
let backoff = 1000;

function setStatus(live) {
  const node = $("#live-status");
  node.className = `status ${live ? "live" : "offline"}`;
  node.dataset.i18n = live ? "live" : "offline";
  node.textContent = t(node.dataset.i18n);
}

function stopLive() {
  clearTimeout(retry);
  if (socket) {
    socket.onclose = null;
    socket.close();
    socket = null;
  }
  setStatus(false);
}

async function startLive() {
  stopLive();
  if (session.age() > 10 * 60 * 1000) await refreshTokens();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${API}/live`);
  socket.onopen = () => socket.send(JSON.stringify({ token: session.access, purpose: t("livePurpose"), since: state.cursor }));
  socket.onmessage = (message) => onLive(JSON.parse(message.data));
  socket.onclose = (event) => {
    setStatus(false);
    if (event.code === 4401) {
      // the access token or the session ended: refresh and come back, else sign in again
      refreshTokens().then((ok) => (ok ? startLive() : showLogin(t("sessionEnded"))));
      return;
    }
    retry = setTimeout(startLive, backoff);
    backoff = Math.min(backoff * 2, 30000);
  };
}

async function onLive(message) {
  if (message.type === "ready") {
    setStatus(true);
    backoff = 1000;
    // after any drop, the queue is read again whole: nothing missed even past a resync
    await loadAlerts();
  } else if (message.type === "events") {
    for (const p of message.positions) state.positions.set(p.device_code, p);
    for (const change of message.alerts) {
      const a = change.alert;
      const isNew = change.event.action === "opened" && !state.alerts.has(a.id);
      state.alerts.set(a.id, a);
      if (isNew) {
        state.fresh.add(a.id);
        if (a.severity === "critical") alarm();
      }
      if (openSubjectId === a.subject_id) refreshSubjectAlerts();
    }
    if (message.positions.length) renderMarkers();
    if (message.alerts.length) renderQueue();
  } else if (message.type === "resync") {
    state.cursor = null;
    socket.close();
    return;
  }
  if (message.cursor) state.cursor = message.cursor;
}

// Subject page ----------------------------------------------------------------------------

let openSubjectId = null;

function table(rows) {
  return el("table", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c, i) => el(i === 0 ? "th" : "td", { textContent: c ?? "" })))));
}

function describeSchedule(schedule) {
  if (!schedule) return t("always");
  const parts = (schedule.weekly || []).map((w) => `${w.days.map((d) => t(`day_${d}`)).join("")} ${w.start}-${w.end}`);
  parts.push(...(schedule.once || []).map((w) => `${localTime(w.start)} - ${localTime(w.end)}`));
  return parts.join("; ");
}

async function openSubject(subjectId) {
  openSubjectId = subjectId;
  const detail = await api(`/subjects/${subjectId}`);
  const s = detail.subject;
  const order = detail.orders.find((o) => o.id === detail.active_order_id);
  const now = Date.now();
  const leave = detail.leaves.find((l) => l.state === "approved" && new Date(l.ends_at).getTime() > now);
  const body = $("#subject-body");
  body.replaceChildren(
    el("h2", { textContent: s.name }),
    table([
      [t("office"), s.office],
      [t("level"), levelName(s.level)],
      [t("order"), order ? t("orderUntil", { end: localTime(order.ends_at), days: Math.ceil((new Date(order.ends_at) - now) / 86400000) }) : t("noOrder")],
      [t("leave"), leave ? `${leave.destination}: ${localTime(leave.starts_at)} - ${localTime(leave.ends_at)}` : t("none")],
    ]),
    el("h3", { textContent: t("devices") }),
    table(detail.devices.map((d) => [
      `${t(d.kind)} ${d.code}`,
      d.active ? (d.battery != null ? `${d.battery}%` : "–") : t("retired"),
      d.last_fix_at ? `${t("lastSeen")} ${ago(d.last_fix_at)}` : t("neverSeen"),
    ])),
    el("h3", { textContent: t("zones") }),
    table(detail.assignments.map((a) => [a.zone_name, t(`role_${a.role}`), describeSchedule(a.schedule)])),
  );
  $("#subject").hidden = false;
  const form = $("#trail-form");
  const until = new Date(Date.now() + 60 * 1000); // the inputs drop seconds: past now
  const since = new Date(until.getTime() - 6 * 3600 * 1000);
  form.since.value = toLocalInput(since);
  form.until.value = toLocalInput(until);
  $("#trail-player").hidden = true;
  $("#trail-info").textContent = "";
  layers.trail.clearLayers();
  await refreshSubjectAlerts();
}

async function refreshSubjectAlerts() {
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

const toLocalInput = (date) => new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);

let playback;

async function showTrail(event) {
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
  $("#trail-info").textContent = t("trailInfo", { shown: trail.points.length, total: trail.fixes_in_range });
  if (!points.length) return;
  L.polyline(points, { color: "#7a1fa2", weight: 3 }).addTo(layers.trail);
  const cursor = L.circleMarker(points[0], { radius: 8, color: "#7a1fa2", fillOpacity: 0.9 }).addTo(layers.trail);
  map.fitBounds(L.latLngBounds(points).pad(0.2));
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

// Daily report ----------------------------------------------------------------------------

const charts = {};

async function showReport(event) {
  event?.preventDefault();
  const day = $("#report-form").day.value;
  const report = await api(`/reports/daily?day=${day}`);
  $("#report-figures").replaceChildren(
    ...[["subjectsMonitored", report.subjects_monitored], ["devicesBound", report.devices_bound],
      ["devicesReportingN", report.devices_reporting],
      ["alertsOpened", report.alerts.reduce((n, a) => n + a.count, 0)]]
      .map(([key, value]) => el("div", {}, el("b", { textContent: String(value) }), t(key))));
  const kinds = [...new Set(report.alerts_by_hour.map((h) => h.kind))];
  const hours = [...Array(24).keys()];
  charts.hours?.destroy();
  charts.hours = new Chart($("#chart-hours"), {
    type: "bar",
    data: {
      labels: hours.map((h) => `${String(h).padStart(2, "0")}:00`),
      datasets: kinds.map((kind) => ({
        label: kindName(kind),
        data: hours.map((h) => report.alerts_by_hour.find((x) => x.hour === h && x.kind === kind)?.count ?? 0),
      })),
    },
    options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });
  charts.devices?.destroy();
  charts.devices = new Chart($("#chart-devices"), {
    type: "doughnut",
    data: {
      labels: [t("reporting"), t("notReporting")],
      datasets: [{ data: [report.devices_reporting, report.devices_bound - report.devices_reporting], backgroundColor: ["#1e7d3a", "#c9ced8"] }],
    },
    options: { animation: false },
  });
  $("#report-silent").replaceChildren(...report.silent.map((s) => el("tr", {},
    el("td", { textContent: s.name }), el("td", { textContent: levelName(s.level) }),
    el("td", { textContent: s.last_report ? localTime(s.last_report) : t("neverSeen") }))));
  $("#report-old").replaceChildren(...report.open_over_a_day.map((a) => el("tr", {},
    el("td", { textContent: kindName(a.kind) }), el("td", { textContent: a.subject_name }),
    el("td", { textContent: localTime(a.opened_at) }), el("td", { textContent: t(`state_${a.state}`) }))));
}

async function downloadCsv() {
  const day = $("#report-form").day.value;
  const response = await api(`/reports/daily?day=${day}&format=csv`, { raw: true });
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `ccmon-daily-${day}.csv` });
  link.click();
  URL.revokeObjectURL(link.href);
}

function showView(view) {
  for (const button of document.querySelectorAll("nav button")) button.classList.toggle("active", button.dataset.view === view);
  $("#map-view").hidden = view !== "map";
  $("#report-view").hidden = view !== "report";
  if (view === "map") map.invalidateSize();
  if (view === "report") showReport();
}

// Start -----------------------------------------------------------------------------------

async function start() {
  state.me = await api("/auth/me");
  $("#who").textContent = `${state.me.username} (${t(`role_${state.me.role}`)})`;
  $("#login").hidden = true;
  $("#app").hidden = false;
  const [offices, subjects] = await Promise.all([api("/offices"), api("/subjects")]);
  state.offices = new Map(offices.map((o) => [o.id, o]));
  state.subjects = new Map(subjects.map((s) => [s.id, s]));
  fillKindFilter();
  setUpMap();
  const bounds = await loadZones();
  if (bounds.length) map.fitBounds(bounds.reduce((all, b) => all.extend(b), L.latLngBounds(bounds[0].getSouthWest(), bounds[0].getNorthEast())));
  await loadAlerts();
  state.cursor = null;
  startLive();
}

async function boot() {
  applyLanguage();
  state.config = await fetch(`${API}/console/config`).then((r) => r.json());
  for (const button of document.querySelectorAll(".lang-toggle")) button.onclick = toggleLanguage;
  $("#login-form").onsubmit = signIn;
  $("#sign-out").onclick = signOut;
  $("#subject-close").onclick = () => { $("#subject").hidden = true; openSubjectId = null; clearInterval(playback); layers.trail.clearLayers(); };
  $("#trail-form").onsubmit = showTrail;
  $("#report-form").onsubmit = showReport;
  $("#report-form").day.value = toLocalInput(new Date()).slice(0, 10);
  $("#report-csv").onclick = downloadCsv;
  for (const select of ["#filter-state", "#filter-kind", "#filter-office"]) $(select).onchange = renderQueue;
  for (const button of document.querySelectorAll("nav button")) button.onclick = () => showView(button.dataset.view);
  document.body.addEventListener("click", unlockSound, { once: true });
  if (session.access) {
    try { await start(); return; } catch (error) { if (!(error instanceof SessionEnded)) throw error; }
  }
  showLogin();
}

boot();
