// The live feed: one WebSocket that brings positions and alert steps as they are committed,
// resumes from its cursor after a drop, and reads the queue again whole when it must.
import { $, API, endSession, lang, refreshTokens, session, state, t } from "./core.js";
import { renderMarkers } from "./map.js";
import { alarm, loadAlerts, renderQueue } from "./queue.js";
import { refreshSubjectAlerts, shownSubject } from "./subject.js";

let socket;
let retry;
let backoff = 1000;

function setStatus(live) {
  const node = $("#live-status");
  node.className = `status ${live ? "live" : "offline"}`;
  node.dataset.i18n = live ? "live" : "offline";
  node.textContent = t(node.dataset.i18n);
}

export function stopLive() {
  clearTimeout(retry);
  if (socket) {
    socket.onclose = null;
    socket.close();
    socket = null;
  }
  setStatus(false);
}

export async function startLive() {
  stopLive();
  if (session.age() > 10 * 60 * 1000) await refreshTokens();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${API}/live`);
  socket.onopen = () => socket.send(JSON.stringify({
    token: session.access, purpose: t("livePurpose"), since: state.cursor, lang,
  }));
  socket.onmessage = (message) => onLive(JSON.parse(message.data));
  socket.onclose = (event) => {
    setStatus(false);
    if (event.code === 4401) {
      // the access token or the session ended: refresh and come back, else sign in again
      refreshTokens().then((ok) => (ok ? startLive() : endSession(t("sessionEnded"))));
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
      if (shownSubject() === a.subject_id) refreshSubjectAlerts();
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
