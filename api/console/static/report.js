// The daily report (日报告): figures, alerts per hour, each kind's alerts and how many were
// dismissed as false alarms (the number `ccmon bench alerts` measures, watched in production),
// devices reporting, silent subjects and alerts open for over a day; downloadable as CSV.
import { $, api, el, kindName, levelName, localTime, t } from "./core.js";

const charts = {};

export async function showReport(event) {
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
  const byKind = new Map();
  for (const a of report.alerts) {
    const counts = byKind.get(a.kind) ?? { opened: 0, dismissed: 0 };
    counts.opened += a.count;
    if (a.state === "dismissed") counts.dismissed += a.count;
    byKind.set(a.kind, counts);
  }
  $("#report-kinds").replaceChildren(
    el("tr", {}, ...["kind", "alertsOpened", "dismissedFalse"].map((k) => el("th", { textContent: t(k) }))),
    ...[...byKind].map(([kind, c]) => el("tr", { className: "kind-row" },
      el("td", { textContent: kindName(kind) }), el("td", { textContent: String(c.opened) }),
      el("td", { textContent: `${c.dismissed} (${Math.round((100 * c.dismissed) / c.opened)}%)` }))));
  $("#report-silent").replaceChildren(...report.silent.map((s) => el("tr", {},
    el("td", { textContent: s.name }), el("td", { textContent: levelName(s.level) }),
    el("td", { textContent: s.last_report ? localTime(s.last_report) : t("neverSeen") }))));
  $("#report-old").replaceChildren(...report.open_over_a_day.map((a) => el("tr", {},
    el("td", { textContent: kindName(a.kind) }), el("td", { textContent: a.subject_name }),
    el("td", { textContent: localTime(a.opened_at) }), el("td", { textContent: t(`state_${a.state}`) }))));
}

export async function downloadCsv() {
  const day = $("#report-form").day.value;
  const response = await api(`/reports/daily?day=${day}&format=csv`, { raw: true });
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `ccmon-daily-${day}.csv` });
  link.click();
  URL.revokeObjectURL(link.href);
}
