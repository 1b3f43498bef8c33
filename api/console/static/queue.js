// The alert queue: live alerts of the officer's offices, critical first, with the steps an
// officer takes on them, and the alarm for a new critical one.
import { $, SessionEnded, ago, api, el, kindName, localTime, selectSubject, state, t, words } from "./core.js";
import { mayShowProtected, showProtected } from "./prohibitions.js";

const SEVERITY_RANK = { critical: 0, high: 1, normal: 2 };

export async function loadAlerts() {
  const alerts = await api("/alerts?state=open&state=acknowledged&limit=1000");
  state.alerts = new Map(alerts.map((a) => [a.id, a]));
  renderQueue();
}

export function fillKindFilter() {
  const select = $("#filter-kind");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "", textContent: t("allKinds") }),
    ...words.kinds.map((k) => el("option", { value: k, textContent: kindName(k) })));
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

export function alertItem(a, { actions = true } = {}) {
  const item = el("li", { className: `alert ${a.severity}${state.fresh.has(a.id) ? " fresh" : ""}` });
  item.dataset.alert = a.id;
  // Anywhere on the alert but its controls: the map flies to the subject and opens its page.
  item.onclick = (event) => { if (!event.target.closest("button, input")) selectSubject(a.subject_id); };
  const subject = el("button", { className: "link", textContent: a.subject_name, onclick: () => selectSubject(a.subject_id) });
  item.append(
    el("div", { className: "top" },
      el("span", { className: "kind", textContent: kindName(a.kind) }),
      el("span", { className: `badge ${a.state}`, textContent: t(`state_${a.state}`) })),
    el("div", {}, subject, a.zone_name ? ` · ${a.zone_name}` : "", a.device_code ? ` · ${a.device_code}` : ""),
    el("div", { className: "meta", textContent: `${localTime(a.opened_at)} (${ago(a.opened_at)})${a.count > 1 ? ` · ×${a.count}` : ""} · ${a.message}` }),
  );
  if (mayShowProtected(a)) {
    const where = el("span", { className: "error", role: "alert" });
    item.append(el("div", {}, el("button", {
      className: "show-protected", textContent: t("showProtected", { code: state.readable.get(a.protected_person_id) }),
      onclick: () => showProtected(a, where),
    }), where));
  }
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

export function renderQueue() {
  if (!state.me) return;
  const alerts = visibleAlerts();
  $("#alerts").replaceChildren(...alerts.map((a) => alertItem(a)));
  $("#queue-count").textContent = String(alerts.length);
  const critical = [...state.alerts.values()].some((a) => state.fresh.has(a.id) && a.severity === "critical" && a.state === "open");
  $("#alarm").hidden = !critical;
}

// Sound: a browser plays sound only after the user has interacted with the page (signing in).
let audio;
export function unlockSound() {
  audio = audio || new AudioContext();
  audio.resume();
}

export function alarm() {
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
