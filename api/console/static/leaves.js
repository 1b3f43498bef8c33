// Leaves (请假, Art. 27): an officer requests one for a subject (where to, from when to when,
// why); a supervisor approves or rejects it with a note. Approved, the destination applies
// for exactly that window and being late back is an alert.
import { acts, api, attempt, el, localTime, manages, selectSubject, state, t, toLocalInput } from "./core.js";
import { drawShape, loadZones } from "./map.js";

// One leave as a line, with Approve / Reject (and a note) for a supervisor while it waits.
function leaveItem(leave, { withSubject = false, after } = {}) {
  const who = withSubject ? `${state.subjects.get(leave.subject_id)?.name ?? `#${leave.subject_id}`} · ` : "";
  const item = el("li", { className: `leave ${leave.state}` },
    `${who}${leave.destination}: ${localTime(leave.starts_at)} - ${localTime(leave.ends_at)} · ${leave.reason}`,
    ` · ${t(`leave_${leave.state}`)} · ${leave.decided_by ?? leave.requested_by}`);
  if (manages() && leave.state === "requested") {
    const note = el("input", { className: "note", placeholder: t("note") });
    const error = el("span", { className: "error" });
    const decide = (how) => async () => {
      const body = note.value.trim() ? { note: note.value.trim() } : {};
      if (await attempt(error, () => api(`/leaves/${leave.id}/${how}`, { method: "POST", body }))) after?.();
    };
    item.append(el("div", { className: "actions" }, note,
      el("button", { className: "approve", textContent: t("approve"), onclick: decide("approve") }),
      el("button", { className: "reject", textContent: t("reject"), onclick: decide("reject") }), error));
  }
  return item;
}

// On a subject's page: its leaves, and (for anyone who acts) a request for a new one.
export function leaveSection(detail) {
  const subjectId = detail.subject.id;
  const refresh = () => selectSubject(subjectId);
  const list = el("ol", { className: "leaves" }, ...detail.leaves.map((l) => leaveItem(l, { after: refresh })));
  if (!acts()) return el("div", { id: "subject-leaves" }, list);
  const error = el("p", { className: "error", role: "alert" });
  const tomorrow = new Date(Date.now() + 86400000);
  tomorrow.setHours(8, 0, 0, 0);
  const form = el("form", { className: "manage", id: "new-leave-form" },
    el("label", {}, el("span", { textContent: t("destination") }),
      el("select", { name: "destination" }, ...state.zones.map((z) => el("option", { value: String(z.id), textContent: z.properties.name })))),
    el("label", {}, el("span", { textContent: t("from") }), el("input", { type: "datetime-local", name: "starts_at", required: true, value: toLocalInput(tomorrow) })),
    el("label", {}, el("span", { textContent: t("to") }), el("input", { type: "datetime-local", name: "ends_at", required: true, value: toLocalInput(new Date(tomorrow.getTime() + 2 * 86400000)) })),
    el("label", {}, el("span", { textContent: t("reason") }), el("input", { name: "reason", required: true, maxLength: 500 })),
    el("button", { type: "submit", textContent: t("requestLeave") }));
  if (manages()) form.destination.parentElement.after(destinationDrawer(detail.subject, form.destination, error));
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = {
      destination_zone_id: Number(form.destination.value),
      starts_at: new Date(form.starts_at.value).toISOString(),
      ends_at: new Date(form.ends_at.value).toISOString(),
      reason: form.reason.value.trim(),
    };
    if (await attempt(error, () => api(`/subjects/${subjectId}/leaves`, { method: "POST", body }))) refresh();
  };
  return el("div", { id: "subject-leaves" }, list, form, error);
}

// For those who manage zones: a destination not yet a zone (another city), named and drawn
// on the map, then chosen.
function destinationDrawer(subject, select, error) {
  const name = el("input", { name: "new_destination", placeholder: t("newDestination"), maxLength: 200 });
  const draw = async () => {
    error.textContent = "";
    if (!name.value.trim()) {
      error.textContent = t("nameTheDestination");
      return;
    }
    const geometry = await drawShape("Polygon");
    const feature = { type: "Feature", geometry, properties: { name: name.value.trim(), office_id: subject.office_id } };
    const zone = await attempt(error, () => api(`/zones?crs=${state.config.tiles_crs}`, { method: "POST", body: feature }));
    if (!zone) return;
    await loadZones();
    select.append(el("option", { value: String(zone.id), textContent: zone.properties.name }));
    select.value = String(zone.id);
    name.value = "";
  };
  return el("div", { className: "draw" }, name,
    el("button", { type: "button", className: "draw-destination", textContent: t("drawDestination"), onclick: draw }));
}

// For a supervisor: every leave of their offices waiting for a decision.
export async function waitingLeaves() {
  if (!manages()) return null;
  const waiting = await api("/leaves?state=requested");
  const list = el("ol", { className: "leaves", id: "waiting-leaves" });
  const refresh = () => waitingLeaves().then((fresh) => list.replaceWith(fresh));
  list.append(...(waiting.length ? waiting.map((l) => leaveItem(l, { withSubject: true, after: refresh })) : [el("li", { textContent: t("none") })]));
  return list;
}
