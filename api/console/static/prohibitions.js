// Prohibition orders (禁止令): the protected persons of a supervisor's offices (who may see
// each one's position: the grants), the pairs an order keeps apart on a subject's page, and
// a protected person's latest position on the map, for an officer a grant names, read with
// the alert as its purpose (on the record like any location read).
import { $, ago, api, attempt, el, manages, selectSubject, state, t } from "./core.js";
import { fitInView, layers, shown } from "./map.js";

const ROLES = ["officer", "supervisor"];

// Who the signed-in user may see on the map (id -> code); no position in it.
export async function loadReadable() {
  const readable = await api("/protected-persons/readable");
  state.readable = new Map(readable.map((p) => [p.id, p.code]));
}

// The subjects view: protected persons, a new one, and their grants ----------------------

export async function showProtectedPersons() {
  const section = $("#protected");
  if (!manages()) {
    section.replaceChildren();
    return;
  }
  const error = el("p", { className: "error", role: "alert" });
  const people = await api("/protected-persons");
  const grants = await Promise.all(people.map((p) => api(`/protected-persons/${p.id}/grants`)));
  const officeName = (id) => state.offices.get(id)?.name ?? `#${id}`;
  const rows = people.map((p, i) => el("tr", { className: "protected-person" },
    el("td", { textContent: p.code }),
    el("td", { textContent: p.name }),
    el("td", { textContent: officeName(p.office_id) }),
    el("td", { textContent: [p.sms_opt_in ? t("smsOptIn") : "", p.pursuit_consent ? t("pursuitConsent") : ""].filter(Boolean).join(" · ") }),
    el("td", {}, grantList(p, grants[i], officeName, error), grantForm(p, error))));
  section.replaceChildren(
    el("h3", { textContent: t("protectedPersons") }),
    el("p", { className: "hint", textContent: t("protectedHint") }),
    el("table", { id: "protected-table" },
      el("tr", {}, ...["code", "personName", "office", "warnings", "maySee"].map((k) => el("th", { textContent: t(k) }))),
      ...rows),
    personForm(error),
    error);
}

function grantList(person, grants, officeName, error) {
  const live = grants.filter((g) => g.revoked_at === null);
  return el("ul", { className: "grants" }, ...live.map((g) => el("li", {},
    `${officeName(g.office_id)} · ${t(`role_${g.role}`)} `,
    el("button", {
      className: "revoke-grant", textContent: t("revoke"),
      onclick: async () => {
        if (await attempt(error, () => api(`/protected-persons/${person.id}/grants/${g.id}/revoke`, { method: "POST" }))) showProtectedPersons();
      },
    }))));
}

function grantForm(person, error) {
  const form = el("form", { className: "manage grant-form" },
    el("select", { name: "office_id" }, ...[...state.offices.values()].map((o) => el("option", { value: String(o.id), textContent: o.name }))),
    el("select", { name: "role" }, ...ROLES.map((r) => el("option", { value: r, textContent: t(`role_${r}`) }))),
    el("button", { type: "submit", textContent: t("grant") }));
  form.office_id.value = String(person.office_id);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = { office_id: Number(form.office_id.value), role: form.role.value };
    if (await attempt(error, () => api(`/protected-persons/${person.id}/grants`, { method: "POST", body }))) showProtectedPersons();
  };
  return form;
}

function personForm(error) {
  const check = (name, label) => el("label", {}, el("input", { type: "checkbox", name }), el("span", { textContent: t(label) }));
  const form = el("form", { className: "manage", id: "new-protected-form" },
    el("label", {}, el("span", { textContent: t("code") }), el("input", { name: "code", required: true, pattern: "[A-Za-z0-9_.\\-]{1,32}", placeholder: "P-17" })),
    el("label", {}, el("span", { textContent: t("personName") }), el("input", { name: "name", required: true, maxLength: 200 })),
    el("label", {}, el("span", { textContent: t("office") }),
      el("select", { name: "office_id" }, ...[...state.offices.values()].map((o) => el("option", { value: String(o.id), textContent: o.name })))),
    el("label", {}, el("span", { textContent: t("phoneNumber") }), el("input", { name: "phone", pattern: "\\+?[0-9]{5,20}" })),
    el("label", {}, el("span", { textContent: t("language") }),
      el("select", { name: "language" }, el("option", { value: "zh", textContent: "中文" }), el("option", { value: "en", textContent: "English" }))),
    check("sms_opt_in", "smsOptIn"), check("pursuit_consent", "pursuitConsent"),
    el("button", { type: "submit", textContent: t("newProtected") }));
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = {
      code: form.code.value.trim(), name: form.name.value.trim(), office_id: Number(form.office_id.value),
      language: form.language.value, sms_opt_in: form.sms_opt_in.checked, pursuit_consent: form.pursuit_consent.checked,
    };
    if (form.phone.value) body.phone = form.phone.value.trim();
    if (await attempt(error, () => api("/protected-persons", { method: "POST", body }))) showProtectedPersons();
  };
  return form;
}

// On a subject's page: the pairs their orders keep apart --------------------------------

export function prohibitionsSection(subjectId) {
  const error = el("p", { className: "error", role: "alert" });
  const section = el("div", { id: "prohibitions" }, el("h3", { textContent: t("prohibitions") }));
  const table = el("table", { id: "prohibitions-table" });
  section.append(table, error);
  api(`/subjects/${subjectId}/prohibitions`).then((pairs) => {
    table.replaceChildren(...pairs.filter((p) => p.active).map((p) => {
      const other = p.protected_person_code !== null
        ? t("protectedPerson", { code: p.protected_person_code })
        : state.subjects.get(p.other_subject_id === subjectId ? p.subject_id : p.other_subject_id)?.name ?? `#${p.other_subject_id}`;
      const terms = p.protected_person_code !== null
        ? t("keepAway", { m: p.distance_m }) + (p.warn_s > 0 ? ` · ${t("warnAhead", { min: Math.round(p.warn_s / 60) })}` : "")
        : t("noMeeting", { m: p.distance_m, min: Math.round(p.for_s / 60) });
      const retire = manages() ? el("button", {
        className: "retire-prohibition", textContent: t("retire"),
        onclick: async () => {
          if (await attempt(error, () => api(`/prohibitions/${p.id}/retire`, { method: "POST" }))) selectSubject(subjectId);
        },
      }) : null;
      return el("tr", {}, el("th", { textContent: other }), el("td", { textContent: terms }), el("td", {}, retire));
    }));
    if (!pairs.some((p) => p.active)) table.replaceChildren(el("tr", {}, el("td", { textContent: t("none") })));
  }, (failure) => { error.textContent = failure.message; });
  if (manages()) section.append(prohibitionForm(subjectId, error));
  return section;
}

function prohibitionForm(subjectId, error) {
  const form = el("form", { className: "manage", id: "new-prohibition-form" },
    el("select", { name: "other" }),
    el("label", {}, el("span", { textContent: t("distanceM") }), el("input", { name: "distance_m", type: "number", min: 10, max: 50000, value: 500, required: true })),
    el("label", { className: "for-protected" }, el("span", { textContent: t("warnMinutes") }), el("input", { name: "warn_min", type: "number", min: 0, max: 60, value: 5 })),
    el("label", { className: "for-subject" }, el("span", { textContent: t("meetMinutes") }), el("input", { name: "for_min", type: "number", min: 0, max: 1440, value: 5 })),
    el("button", { type: "submit", textContent: t("addProhibition") }));
  const show = () => {
    const protectedOne = form.other.value.startsWith("p");
    form.querySelector(".for-protected").hidden = !protectedOne;
    form.querySelector(".for-subject").hidden = protectedOne;
  };
  api("/protected-persons").then((people) => {
    const subjects = [...state.subjects.values()].filter((s) => s.id !== subjectId);
    form.other.replaceChildren(
      ...people.map((p) => el("option", { value: `p${p.id}`, textContent: t("protectedPerson", { code: p.code }) })),
      ...subjects.map((s) => el("option", { value: `s${s.id}`, textContent: s.name })));
    show();
  }, (failure) => { error.textContent = failure.message; });
  form.other.onchange = show;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const id = Number(form.other.value.slice(1));
    const body = { distance_m: Number(form.distance_m.value) };
    if (form.other.value.startsWith("p")) Object.assign(body, { protected_person_id: id, warn_s: Number(form.warn_min.value) * 60 });
    else Object.assign(body, { other_subject_id: id, for_s: Number(form.for_min.value) * 60 });
    if (await attempt(error, () => api(`/subjects/${subjectId}/prohibitions`, { method: "POST", body }))) selectSubject(subjectId);
  };
  return form;
}

// On an alert about a protected person: their latest position on the map ------------------

export const mayShowProtected = (alert) => state.readable?.has(alert.protected_person_id) ?? false;

export async function showProtected(alert, where) {
  const code = state.readable.get(alert.protected_person_id);
  const purpose = encodeURIComponent(t("protectedPurpose", { id: alert.id, kind: alert.kind }));
  const read = await attempt(where, () => api(`/protected-persons/${alert.protected_person_id}/positions?purpose=${purpose}`));
  if (!read) return;
  layers.protected.clearLayers();
  const [p] = read.positions;
  if (!p) {
    where.textContent = t("noProtectedFix", { code });
    return;
  }
  const at = shown(p.lon, p.lat);
  const circle = L.circle(at, { radius: p.accuracy, weight: 1, color: "#8a2be2", fillOpacity: 0.1, interactive: false });
  const badge = el("div", { className: "device protected", textContent: "P" });
  badge.dataset.protected = code;
  const tip = el("div", {}, t("protectedPerson", { code }), el("br"), `${ago(p.time)} · ±${Math.round(p.accuracy)} m`);
  const marker = L.marker(at, { icon: L.divIcon({ className: "", html: badge, iconSize: [20, 20] }), title: code })
    .bindTooltip(tip, { className: "age", permanent: true, direction: "right", offset: [12, 0] });
  circle.addTo(layers.protected);
  marker.addTo(layers.protected);
  fitInView(circle.getBounds().pad(4));
}
