// The duty officer console: the live map and the alert queue of the officer's offices, a
// subject's page with its trail, and the daily report. Talks only to ccmon's own API
// (REST under /api/v1 and the live WebSocket); Leaflet, Chart.js and gcoord are served from
// ccmon's own static files. One module per view; this one signs in and wires them up.
import {
  $, API, SessionEnded, api, applyLanguage, loadWords, refreshTokens, session, state, switchLanguage, t,
  toLocalInput, whenSessionEnds,
} from "./core.js";
import { startLive, stopLive } from "./feed.js";
import { focusSubject, layers, loadZones, map, renderMarkers, setUpMap } from "./map.js";
import { fillKindFilter, loadAlerts, renderQueue, unlockSound } from "./queue.js";
import { createOffice, createToken, createUser, createWebhook, showAdmin, startHealth, stopHealth } from "./admin.js";
import { downloadAuditCsv, showAudit } from "./audit.js";
import { createSubject, showSubjects } from "./manage.js";
import { loadReadable } from "./prohibitions.js";
import { downloadCsv, showReport } from "./report.js";
import { closeSubject, openSubject, redrawSubject, showTrail, shownSubject } from "./subject.js";
import { showPlaces } from "./places.js";

// Everything shown is said again in the other language: the view, the subject's page, and
// the alerts' messages (which come from the API in the language asked for).
function toggleLanguage() {
  switchLanguage();
  if (!state.me) return;
  showWho();
  fillKindFilter();
  renderQueue();
  renderMarkers();
  if (!$("#live-status").hidden) startLive();
  const view = document.querySelector("nav button.active")?.dataset.view;
  if (view && view !== "map") showView(view);
  redrawSubject();
}

const showWho = () => { $("#who").textContent = `${state.me.username} (${t(`role_${state.me.role}`)})`; };

// What the last user saw is forgotten when they leave: on a shared desk in the duty room the
// next one signs in to their own offices' subjects, positions and alerts only.
function forget() {
  closeSubject();
  state.me = null;
  state.positions.clear();
  state.alerts.clear();
  state.fresh.clear();
  state.subjects.clear();
  state.zones = [];
  state.readable.clear();
  state.cursor = null;
  layers.zones?.clearLayers();
  layers.protected?.clearLayers(); // a protected person's position is the one who asked's
  renderMarkers();
  $("#alerts").replaceChildren();
  $("#queue-count").textContent = "0";
  $("#alarm").hidden = true;
  $("#admin-secret").replaceChildren(); // a password shown once is for the one who asked
  $("#protected").replaceChildren();
}

function showLogin(message = "") {
  stopLive();
  stopHealth();
  session.clear();
  forget();
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

// Everything that asks the API on its own (the live feed, the commands' and health's polls)
// stops before the session ends, so nothing asks with a token just revoked.
async function signOut() {
  stopLive();
  stopHealth();
  forget();
  try { await api("/auth/logout", { method: "POST" }); } catch { /* the session is gone either way */ }
  showLogin();
}

// Keep the access token fresh while the page is open (the session lasts while it is used).
setInterval(() => {
  if (session.refresh && session.age() > 10 * 60 * 1000) refreshTokens();
}, 60 * 1000);

function showView(view) {
  for (const button of document.querySelectorAll("nav button")) button.classList.toggle("active", button.dataset.view === view);
  $("#map-view").hidden = view !== "map";
  $("#report-view").hidden = view !== "report";
  $("#audit-view").hidden = view !== "audit";
  $("#subjects-view").hidden = view !== "subjects";
  $("#admin-view").hidden = view !== "admin";
  if (view === "map") map?.invalidateSize();
  if (view === "report") showReport();
  if (view === "audit") showAudit();
  if (view === "subjects") showSubjects();
  if (view === "admin") {
    showAdmin();
    startHealth();
  } else {
    stopHealth();
  }
}

// Each role sees its own menus: the map and the report for those who watch and act, the
// audit trail for auditors (and admins). Returns the views the user has, first the default.
function menusFor(role) {
  const views = [];
  for (const button of document.querySelectorAll("nav button")) {
    button.hidden = !button.dataset.roles.split(" ").includes(role);
    if (!button.hidden) views.push(button.dataset.view);
  }
  return views;
}

async function start() {
  [state.me] = await Promise.all([api("/auth/me"), loadWords()]);
  showWho();
  $("#login").hidden = true;
  $("#app").hidden = false;
  const views = menusFor(state.me.role);
  $("#live-status").hidden = !views.includes("map");
  if (!views.includes("map")) {
    // an auditor reads the record, not the subjects' positions (no live feed, no map)
    showView(views[0]);
    return;
  }
  const [offices, subjects] = await Promise.all([api("/offices"), api("/subjects")]);
  state.offices = new Map(offices.map((o) => [o.id, o]));
  state.subjects = new Map(subjects.map((s) => [s.id, s]));
  showView("map");
  fillKindFilter();
  setUpMap();
  const bounds = await loadZones();
  if (bounds.length) map.fitBounds(bounds.reduce((all, b) => all.extend(b), L.latLngBounds(bounds[0].getSouthWest(), bounds[0].getNorthEast())));
  await loadReadable();
  await loadAlerts();
  state.cursor = null;
  startLive();
}

async function boot() {
  applyLanguage();
  whenSessionEnds(showLogin);
  document.addEventListener("ccmon:subject", (event) => {
    if ($("#map-view").hidden) showView("map"); // the subject's page is beside the map
    focusSubject(event.detail);
    openSubject(event.detail);
  });
  state.config = await fetch(`${API}/console/config`).then((r) => r.json());
  for (const button of document.querySelectorAll(".lang-toggle")) button.onclick = toggleLanguage;
  $("#login-form").onsubmit = signIn;
  $("#sign-out").onclick = signOut;
  $("#subject-close").onclick = closeSubject;
  $("#trail-form").onsubmit = showTrail;
  $("#places-form").onsubmit = (event) => showPlaces(event, shownSubject());
  $("#report-form").onsubmit = showReport;
  $("#report-form").day.value = toLocalInput(new Date()).slice(0, 10);
  $("#report-csv").onclick = downloadCsv;
  $("#audit-form").onsubmit = showAudit;
  $("#new-subject-form").onsubmit = createSubject;
  $("#new-office-form").onsubmit = createOffice;
  $("#new-user-form").onsubmit = createUser;
  $("#new-webhook-form").onsubmit = createWebhook;
  $("#new-token-form").onsubmit = createToken;
  $("#audit-form").kind.onchange = showAudit;
  $("#audit-csv").onclick = downloadAuditCsv;
  for (const select of ["#filter-state", "#filter-kind", "#filter-office"]) $(select).onchange = renderQueue;
  for (const button of document.querySelectorAll("nav button")) button.onclick = () => showView(button.dataset.view);
  document.body.addEventListener("click", unlockSound, { once: true });
  if (session.access) {
    try { await start(); return; } catch (error) { if (!(error instanceof SessionEnded)) throw error; }
  }
  showLogin();
}

boot();
