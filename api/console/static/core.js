// What every view shares: the API client with its session, the words (zh/en), the console's
// state, and small DOM helpers.
import { I18N } from "./i18n.js";

export const API = "/api/v1";
export const $ = (selector, root = document) => root.querySelector(selector);
export const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

// State -----------------------------------------------------------------------------------

export const state = {
  config: null,
  me: null,
  offices: new Map(),
  subjects: new Map(),
  zones: [], // GeoJSON features of the zones the user sees, as the map draws them
  positions: new Map(), // device code -> position
  alerts: new Map(), // alert id -> alert (open or acknowledged, or closed since loading)
  readable: new Map(), // protected person id -> code: those whose position a grant lets the user see
  fresh: new Set(), // alert ids opened while watching
  cursor: null,
};

// What the signed-in user may do beside watching: act (anyone but an auditor, who reads);
// manage subjects, devices, zones and orders (supervisors and admins).
export const acts = () => state.me?.role !== "auditor";
export const manages = () => ["supervisor", "admin"].includes(state.me?.role);

// A view asks for a subject's page without knowing the page (console.js opens it).
export const selectSubject = (subjectId) =>
  document.dispatchEvent(new CustomEvent("ccmon:subject", { detail: subjectId }));

// Language ------------------------------------------------------------------------------

export let lang = localStorage.getItem("ccmon.lang") || (navigator.language.startsWith("zh") ? "zh" : "en");

// The server's names of kinds, severities and levels, in the order to list them.
export const words = { kinds: [], severities: [], levels: [] };

export async function loadWords() {
  const loaded = await api("/console/words");
  Object.assign(words, loaded);
  for (const language of ["en", "zh"]) Object.assign(I18N[language], loaded[language]);
}

export function t(key, vars = {}) {
  const text = I18N[lang][key] ?? I18N.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? "");
}

export function applyLanguage() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}

export function switchLanguage() {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("ccmon.lang", lang);
  applyLanguage();
}

export const kindName = (kind) => t(`kind_${kind}`);
export const levelName = (level) => t(`level_${level}`);
export const severityName = (severity) => t(`severity_${severity}`);

export function ago(iso) {
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 90) return t("secondsAgo", { n: Math.round(s) });
  if (s < 5400) return t("minutesAgo", { n: Math.round(s / 60) });
  if (s < 129600) return t("hoursAgo", { n: Math.round(s / 3600) });
  return t("daysAgo", { n: Math.round(s / 86400) });
}

export const localTime = (iso) => new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB");
export const toLocalInput = (date) => new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);

// Session ---------------------------------------------------------------------------------

export const session = {
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

export class SessionEnded extends Error {}

// What happens when the session ends (console.js shows the login page).
let onSessionEnd = () => {};
export const whenSessionEnds = (handler) => { onSessionEnd = handler; };
export const endSession = (message) => onSessionEnd(message);

export async function refreshTokens() {
  const response = await fetch(`${API}/auth/refresh`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh }),
  });
  if (!response.ok) return false;
  session.store(await response.json());
  return true;
}

// Runs `work` (API calls) and returns what it returns; a refusal is shown in `where` with the
// API's words (and undefined returned).
export async function attempt(where, work) {
  where.textContent = "";
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SessionEnded)) where.textContent = error.message;
    return undefined;
  }
}

// A secret the API gives this once (only its hash is kept), shown in `where` under
// `heading`, with `lines` of text around it.
export function showSecret(where, heading, label, secret, ...lines) {
  where.replaceChildren(el("div", { className: "secret" },
    el("b", { textContent: heading }),
    el("div", {}, `${label}: `, el("code", { className: "password", textContent: secret })),
    ...lines.map((line) => el("div", { className: "hint", textContent: line }))));
}

// A REST call with the access token; refreshed once on a 401, else back to the login page.
export async function api(path, { method = "GET", body, raw = false } = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    // the language asked for: alerts' messages come in it
    const headers = { authorization: `Bearer ${session.access}`, "accept-language": lang };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${API}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && attempt === 0 && session.refresh && (await refreshTokens())) continue;
    if (response.status === 401) {
      endSession(t("sessionEnded"));
      throw new SessionEnded();
    }
    if (!response.ok) {
      const detail = await response.json().then((j) => j.detail, () => response.statusText);
      throw new Error(String(detail));
    }
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }
  throw new SessionEnded();
}
