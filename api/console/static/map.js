// The live map: zones, and each device's latest position with its accuracy circle.
import { ago, api, el, selectSubject, state, t } from "./core.js";

export let map;
export const layers = {};
export const zoneLayers = new Map(); // zone id -> its layer on the map (to edit its shape)

export function shown(lon, lat) {
  // Positions are WGS-84; a Chinese provider's tiles are GCJ-02: draw where its map is.
  if (state.config.tiles_crs !== "gcj02") return [lat, lon];
  const [x, y] = gcoord.transform([lon, lat], gcoord.WGS84, gcoord.GCJ02);
  return [y, x];
}

export function setUpMap() {
  if (map) return;
  map = L.map("map", { zoomControl: true, attributionControl: true, maxZoom: state.config.tiles_max_zoom })
    .setView([30.66, 104.06], 11);
  if (state.config.tiles_url) {
    L.tileLayer(state.config.tiles_url, {
      attribution: state.config.tiles_attribution, maxZoom: state.config.tiles_max_zoom,
    }).addTo(map);
  }
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  layers.zones = L.layerGroup().addTo(map);
  layers.accuracy = L.layerGroup().addTo(map);
  // Zoomed out, hundreds of markers overlap: they gather into counted clusters.
  layers.devices = L.markerClusterGroup({
    showCoverageOnHover: false, maxClusterRadius: 40, disableClusteringAtZoom: 15,
  }).addTo(map);
  layers.trail = L.layerGroup().addTo(map);
  layers.protected = L.layerGroup().addTo(map); // a protected person, when asked for (prohibitions.js)
  // Accuracy circles only where they can be told apart.
  const showAccuracy = () => (map.getZoom() >= 13 ? map.addLayer(layers.accuracy) : map.removeLayer(layers.accuracy));
  map.on("zoomend", showAccuracy);
  showAccuracy();
}

// The geometry, as the API takes it, of a layer drawn or edited on the map.
export function drawnGeometry(layer, shape, widthM) {
  if (shape === "Circle") {
    const c = layer.getLatLng();
    return { type: "Circle", center: [c.lng, c.lat], radius_m: layer.getRadius() };
  }
  if (shape === "Line" || shape === "Corridor") {
    return { type: "Corridor", coordinates: layer.getLatLngs().map((p) => [p.lng, p.lat]), width_m: widthM };
  }
  return layer.toGeoJSON().geometry;
}

// A shape the user draws on the map ("Polygon", "Circle", or "Line": a corridor `widthM`
// wide), as the API takes it; the drawing itself goes (the store's copy is drawn once saved).
export function drawShape(shape, widthM) {
  map.pm.enableDraw(shape, { snappable: false, continueDrawing: false });
  return new Promise((resolve) => {
    map.once("pm:create", ({ layer }) => {
      map.removeLayer(layer);
      resolve(drawnGeometry(layer, shape, widthM));
    });
  });
}

// The map shows `bounds` in the part of it the subject's page (over its left side) leaves free.
export function fitInView(bounds) {
  const panel = document.getElementById("subject");
  const left = panel.hidden ? 0 : panel.offsetLeft + panel.offsetWidth;
  map.fitBounds(bounds, { paddingTopLeft: [left + 30, 30], paddingBottomRight: [30, 30] });
}

// The map flies to the subject's newest position (if the live feed has brought one).
export function focusSubject(subjectId) {
  if (!map) return;
  const newest = [...state.positions.values()]
    .filter((p) => p.subject_id === subjectId)
    .sort((a, b) => b.time.localeCompare(a.time))[0];
  if (newest) map.flyTo(shown(newest.lon, newest.lat), Math.max(map.getZoom(), 16), { duration: 0.6 });
}

export async function loadZones() {
  const crs = state.config.tiles_crs;
  const zones = await api(`/zones?crs=${crs}`);
  state.zones = zones.features;
  layers.zones.clearLayers();
  zoneLayers.clear();
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
      // one editable layer per polygon (a GeoJSON layer is a group of them)
      layer = L.geoJSON(g).getLayers()[0];
    }
    layer.setStyle?.({ color: "#5a6b8c", weight: 1.5, fillOpacity: 0.06 });
    const label = g.type === "Corridor" ? `${name} · ${t("corridorWide", { m: Math.round(g.width_m) })}` : name;
    layer.bindTooltip(el("span", { textContent: label })); // a name is text, never markup
    layer.addTo(layers.zones);
    zoneLayers.set(feature.id, layer);
    bounds.push(layer.getBounds());
  }
  return bounds;
}

export function renderMarkers() {
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
      .on("click", () => selectSubject(p.subject_id))
      .addTo(layers.devices);
  }
}
setInterval(renderMarkers, 15000); // ages and greying move on with the clock
