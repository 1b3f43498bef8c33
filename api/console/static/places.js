// A subject's frequent places (their stays clustered; a recorded location read) listed with
// visits and hours and drawn on the map, a place stayed at by night that is not the
// registered residence marked; and the residence itself, which those who manage set from the
// subject's zones.
import { $, SessionEnded, api, attempt, el, localTime, manages, t, toLocalInput } from "./core.js";
import { fitInView, layers, shown } from "./map.js";

const DAYS = 30;
let shownPlaces = null; // the last answer, drawn again in another language

export function resetPlaces() {
  const form = $("#places-form");
  const until = new Date(Date.now() + 60 * 1000);
  form.since.value = toLocalInput(new Date(until.getTime() - DAYS * 86400 * 1000));
  form.until.value = toLocalInput(until);
  shownPlaces = null;
  $("#places-info").textContent = "";
  $("#places-table").replaceChildren();
}

export function redrawPlaces() {
  if (shownPlaces) renderPlaces(shownPlaces);
}

export async function showPlaces(event, subjectId) {
  event.preventDefault();
  const form = event.target;
  const query = new URLSearchParams({
    since: new Date(form.since.value).toISOString(),
    until: new Date(form.until.value).toISOString(),
    purpose: form.purpose.value,
  });
  let answer;
  try {
    answer = await api(`/subjects/${subjectId}/places?${query}`);
  } catch (error) {
    if (!(error instanceof SessionEnded)) $("#places-info").textContent = error.message;
    return;
  }
  shownPlaces = answer;
  renderPlaces(answer);
  layers.trail.clearLayers();
  const points = answer.places.map((p) => shown(p.lon, p.lat));
  answer.places.forEach((p, i) => {
    L.circleMarker(points[i], { radius: 10, color: p.unknown_at_night ? "#c62828" : "#1565c0", fillOpacity: 0.6 })
      .bindTooltip(`#${i + 1}`, { permanent: true, direction: "center", className: "place-label" })
      .addTo(layers.trail);
  });
  if (points.length) fitInView(L.latLngBounds(points));
}

function mark(place) {
  if (place.at_residence) return t("residencePlace");
  if (place.unknown_at_night) return t("unknownAtNight");
  return "";
}

function renderPlaces(answer) {
  const unknown = answer.places.filter((p) => p.unknown_at_night).length;
  $("#places-info").textContent = [
    t("placesInfo", { places: answer.places.length, stays: answer.stays.length }),
    answer.residence_zone_id === null ? t("noResidenceNotJudged") : t("unknownNights", { n: unknown }),
  ].join(" · ");
  $("#places-table").replaceChildren(
    el("tr", {}, ...["#", t("visits"), t("hours"), t("firstLast"), t("nightVisits"), ""].map((h) => el("th", { textContent: h }))),
    ...answer.places.map((p, i) => el("tr", { className: p.unknown_at_night ? "place night-unknown" : "place" },
      el("td", { textContent: `#${i + 1}` }),
      el("td", { textContent: String(p.visits) }),
      el("td", { textContent: p.hours.toFixed(1) }),
      el("td", { textContent: `${localTime(p.first)} – ${localTime(p.last)}` }),
      el("td", { textContent: String(p.night_visits) }),
      el("td", { textContent: mark(p) }))),
  );
}

// The residence row of the subject's table: its zone, and for those who manage, a choice
// among the subject's zones.
export function residenceRow(detail, redraw) {
  const zones = new Map(detail.assignments.map((a) => [a.zone_id, a.zone_name]));
  const current = detail.subject.residence_zone_id;
  const cell = el("td", { id: "residence" },
    el("span", { className: "name", textContent: current === null ? t("none") : zones.get(current) ?? `#${current}` }));
  if (manages()) {
    const error = el("span", { className: "error", role: "alert" });
    const choice = el("select", { name: "residence" },
      el("option", { value: "", textContent: t("none") }),
      ...[...zones].map(([id, name]) => el("option", { value: String(id), textContent: name, selected: id === current })));
    const save = el("button", {
      className: "set-residence", textContent: t("saveWhen"),
      onclick: async () => {
        const body = { residence_zone_id: choice.value ? Number(choice.value) : null };
        if (await attempt(error, () => api(`/subjects/${detail.subject.id}`, { method: "PATCH", body }))) await redraw();
      },
    });
    cell.append(" ", choice, save, error);
  }
  return el("tr", {}, el("th", { textContent: t("residence") }), cell);
}
