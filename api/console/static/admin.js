// The admin's view: offices as a tree; users (role, office, phone for text messages, on duty,
// disabled), each new or reset password shown once; and the integrations.
import { $, API, api, attempt, el, severityName, showSecret, state, t, words } from "./core.js";

const ROLES = ["officer", "supervisor", "auditor", "admin"];

function officeOptions(select, { county = false } = {}) {
  const chosen = select.value;
  select.replaceChildren(
    ...(county ? [el("option", { value: "", textContent: t("wholeCounty") })] : []),
    ...[...state.offices.values()].map((o) => el("option", { value: String(o.id), textContent: o.name })));
  if (chosen) select.value = chosen;
}

// Offices below their parent, each indented by its depth.
function tree(offices) {
  const children = new Map();
  for (const o of offices) children.set(o.parent_id, [...(children.get(o.parent_id) ?? []), o]);
  const known = new Set(offices.map((o) => o.id));
  const roots = offices.filter((o) => o.parent_id === null || !known.has(o.parent_id));
  const out = [];
  const walk = (o, depth) => {
    const item = el("li", { className: "office", textContent: o.name });
    item.dataset.depth = String(depth);
    out.push(item);
    for (const c of children.get(o.id) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

export async function showAdmin() {
  const [offices, users] = await Promise.all([api("/offices"), api("/users"), showIntegrations()]);
  state.offices = new Map(offices.map((o) => [o.id, o]));
  $("#offices-tree").replaceChildren(...tree(offices));
  officeOptions($("#new-office-form").parent_id, { county: true });
  const userForm = $("#new-user-form");
  officeOptions(userForm.office_id, { county: true });
  if (!userForm.role.options.length) userForm.role.replaceChildren(...ROLES.map((r) => el("option", { value: r, textContent: t(`role_${r}`) })));
  const error = $("#admin-error");
  const secret = $("#admin-secret");
  // `change()` is read when the change happens, not when the row is drawn
  const patch = (u, change) => async () => {
    const body = change();
    if (await attempt(error, () => api(`/users/${u.id}`, { method: "PATCH", body }))) showAdmin();
  };
  $("#users-table").replaceChildren(
    el("tr", {}, ...["username", "role", "office", "phoneNumber", "onDuty", ""].map((k) => el("th", { textContent: k ? t(k) : "" }))),
    ...users.map((u) => {
      const phone = el("input", { className: "phone", value: u.phone ?? "", placeholder: "+86..." });
      phone.onchange = patch(u, () => ({ phone: phone.value.trim() || null }));
      const duty = el("input", { type: "checkbox", className: "on-duty", checked: u.on_duty });
      duty.onchange = patch(u, () => ({ on_duty: duty.checked }));
      const row = el("tr", { className: u.disabled_at ? "user disabled" : "user" },
        el("td", { textContent: u.username }),
        el("td", { textContent: t(`role_${u.role}`) }),
        el("td", { textContent: u.office_id === null ? t("wholeCounty") : state.offices.get(u.office_id)?.name ?? `#${u.office_id}` }),
        el("td", {}, phone), el("td", {}, duty),
        el("td", {},
          el("button", { className: "disable", textContent: t(u.disabled_at ? "enable" : "disable"), onclick: patch(u, () => ({ disabled: !u.disabled_at })) }),
          el("button", {
            className: "reset", textContent: t("resetPassword"),
            onclick: async () => {
              const reset = await attempt(error, () => api(`/users/${u.id}/password`, { method: "POST" }));
              if (reset) showSecret(secret, t("userPasswordOnce"), u.username, reset.password);
            },
          })));
      row.dataset.user = u.username;
      return row;
    }));
}

export async function createOffice(event) {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.name.value.trim(), parent_id: form.parent_id.value ? Number(form.parent_id.value) : null };
  if (await attempt($("#admin-error"), () => api("/offices", { method: "POST", body }))) {
    form.name.value = "";
    showAdmin();
  }
}

export async function createUser(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    username: form.username.value.trim(), role: form.role.value,
    office_id: form.office_id.value ? Number(form.office_id.value) : null,
  };
  const created = await attempt($("#admin-error"), () => api("/users", { method: "POST", body }));
  if (!created) return;
  form.username.value = "";
  await showAdmin();
  showSecret($("#admin-secret"), t("userPasswordOnce"), created.user.username, created.password);
}

// Integrations: webhooks (the secret shown once; stopping one suppresses what was queued),
// their dead letters (sent again with the same ids), and API tokens (shown once).
async function showIntegrations() {
  const [hooks, dead, tokens] = await Promise.all([api("/webhooks"), api("/deliveries?state=dead"), api("/api-tokens")]);
  const error = $("#admin-error");
  const redraw = () => showIntegrations();
  officeOptions($("#new-webhook-form").office_id, { county: true });
  const severity = $("#new-webhook-form").min_severity;
  const chosen = severity.value || "normal";
  severity.replaceChildren(...words.severities.map((s) => el("option", { value: s, textContent: severityName(s) })));
  severity.value = chosen;
  $("#webhooks-table").replaceChildren(...hooks.map((h) => el("tr", { className: h.active ? "webhook" : "webhook disabled" },
    el("td", { textContent: h.url }),
    el("td", { textContent: h.office_id === null ? t("wholeCounty") : state.offices.get(h.office_id)?.name ?? `#${h.office_id}` }),
    el("td", { textContent: severityName(h.min_severity) }),
    el("td", {}, h.active ? el("button", {
      className: "stop", textContent: t("stop"),
      onclick: async () => { if ((await attempt(error, () => api(`/webhooks/${h.id}`, { method: "DELETE" }))) !== undefined) redraw(); },
    }) : t("stopped")))));
  $("#dead-letters").replaceChildren(...(dead.length ? dead.map((d) => el("li", {},
    `${d.url ?? d.phone} · ${t("attempts", { n: d.attempts })} · ${d.last_error ?? ""} `,
    el("button", {
      className: "resend", textContent: t("resend"),
      onclick: async () => { if (await attempt(error, () => api(`/deliveries/${d.id}/resend`, { method: "POST" }))) redraw(); },
    }))) : [el("li", { textContent: t("none") })]));
  $("#tokens-table").replaceChildren(...tokens.map((k) => el("tr", { className: k.revoked_at ? "token disabled" : "token" },
    el("td", { textContent: k.name }), el("td", { textContent: k.username }),
    el("td", {}, k.revoked_at ? t("revoked") : el("button", {
      className: "revoke", textContent: t("revoke"),
      onclick: async () => { if ((await attempt(error, () => api(`/api-tokens/${k.id}`, { method: "DELETE" }))) !== undefined) redraw(); },
    })))));
}

export async function createWebhook(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    url: form.url.value.trim(), min_severity: form.min_severity.value,
    office_id: form.office_id.value ? Number(form.office_id.value) : null,
  };
  const created = await attempt($("#admin-error"), () => api("/webhooks", { method: "POST", body }));
  if (!created) return;
  form.url.value = "";
  await showIntegrations();
  showSecret($("#admin-secret"), t("secretOnce"), created.subscription.url, created.secret);
}

export async function createToken(event) {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.name.value.trim(), username: form.username.value.trim() };
  const created = await attempt($("#admin-error"), () => api("/api-tokens", { method: "POST", body }));
  if (!created) return;
  form.name.value = "";
  await showIntegrations();
  showSecret($("#admin-secret"), t("secretOnce"), body.name, created.token);
}


// System health, from the Prometheus text at /metrics, sampled every few seconds while the
// admin view is open: fixes stored per second, messages waiting in ingest, deliveries
// waiting, dead letters.
const HEALTH_EVERY_MS = 5000;
const HEALTH_POINTS = 60;
let healthPoll;
let healthChart;
const samples = [];

function metric(text, name) {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? null : Number(line.split(" ").at(-1));
}

async function sampleHealth() {
  const response = await fetch(`${API}/metrics`);
  if (!response.ok) {
    $("#health-figures").textContent = t("noMetrics");
    stopHealth();
    return;
  }
  const text = await response.text();
  const now = Date.now();
  const stored = metric(text, "ccmon_fixes_stored_total");
  const before = samples.at(-1);
  const rate = before && stored !== null ? Math.max(0, (stored - before.stored) / ((now - before.at) / 1000)) : 0;
  samples.push({
    at: now, stored, rate,
    queue: metric(text, "ccmon_ingest_queue"), pending: metric(text, "ccmon_delivery_pending"),
    dead: metric(text, "ccmon_delivery_dead"),
  });
  if (samples.length > HEALTH_POINTS) samples.shift();
  const last = samples.at(-1);
  $("#health-figures").replaceChildren(
    ...[["fixesPerSecond", last.rate.toFixed(1)], ["ingestWaiting", last.queue], ["deliveriesWaiting", last.pending], ["deadLetters", last.dead]]
      .map(([key, value]) => el("div", {}, el("b", { textContent: String(value ?? "–") }), t(key))));
  const labels = samples.map((s) => new Date(s.at).toLocaleTimeString());
  const series = [["fixesPerSecond", "rate"], ["ingestWaiting", "queue"], ["deliveriesWaiting", "pending"]];
  if (!healthChart) {
    healthChart = new Chart($("#health-chart"), {
      type: "line",
      data: { labels, datasets: series.map(([key, field]) => ({ label: t(key), data: samples.map((s) => s[field]), pointRadius: 0 })) },
      options: { animation: false, scales: { y: { beginAtZero: true } } },
    });
  } else {
    healthChart.data.labels = labels;
    series.forEach(([, field], i) => { healthChart.data.datasets[i].data = samples.map((s) => s[field]); });
    healthChart.update();
  }
}

export function startHealth() {
  stopHealth();
  sampleHealth();
  healthPoll = setInterval(sampleHealth, HEALTH_EVERY_MS);
}

export function stopHealth() {
  clearInterval(healthPoll);
}
