// EBC console: live dashboard over SSE, the drill/real frame on the compose page, the
// lasso on the township map, and typed confirmations. CSP forbids inline script: all here.
"use strict";

function liveDashboard() {
  const panel = document.getElementById("onair");
  if (!panel || !window.EventSource) return;
  const dot = document.getElementById("live-dot");
  const source = new EventSource(panel.dataset.live);
  source.addEventListener("open", () => dot && dot.classList.add("on"));
  source.addEventListener("error", () => dot && dot.classList.remove("on"));
  source.addEventListener("onair", (event) => { panel.innerHTML = event.data; });
  source.addEventListener("expired", () => {
    source.close();
    window.location.assign("/console/login?expired=1");
  });
}

function modeFrame() {
  const radios = document.querySelectorAll("input[type=radio][name=mode]");
  const banner = document.getElementById("mode-banner");
  const apply = (mode) => {
    document.body.classList.remove("mode-drill", "mode-real", "mode-none");
    document.body.classList.add(mode ? "mode-" + mode : "mode-none");
    document.body.dataset.mode = mode || "";
    if (banner) banner.textContent = mode ? banner.dataset[mode] : "";
  };
  radios.forEach((radio) => radio.addEventListener("change", () => apply(radio.value)));
  const checked = document.querySelector("input[type=radio][name=mode]:checked");
  if (radios.length) apply(checked ? checked.value : "");
}

function inside(x, y, points) {
  let hit = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

function syncSelection() {
  const boxes = document.querySelectorAll("#region-tree input[name=targets]");
  const ticked = new Set([...boxes].filter((b) => b.checked).map((b) => b.value));
  document.querySelectorAll("#region-map .cell").forEach((cell) => {
    cell.classList.toggle("selected", ticked.has(cell.dataset.code));
  });
}

function lasso() {
  const svg = document.getElementById("region-map");
  const field = document.getElementById("polygon");
  const shape = document.getElementById("lasso");
  const tree = document.getElementById("region-tree");
  if (!svg || !field || !tree) return;
  let points = [];
  const draw = () => shape.setAttribute("points", points.map((p) => p.join(",")).join(" "));
  svg.addEventListener("click", (event) => {
    const pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    const local = pt.matrixTransform(svg.getScreenCTM().inverse());
    points.push([Math.round(local.x * 10) / 10, Math.round(local.y * 10) / 10]);
    draw();
  });
  document.getElementById("lasso-close").addEventListener("click", () => {
    if (points.length < 3) return;
    field.value = points.map((p) => p.join(",")).join(" ");
    svg.querySelectorAll(".cell").forEach((cell) => {
      if (inside(Number(cell.dataset.x), Number(cell.dataset.y), points)) {
        const box = tree.querySelector(`input[value="${cell.dataset.code}"]`);
        if (box) box.checked = true;
      }
    });
    syncSelection();
  });
  document.getElementById("lasso-clear").addEventListener("click", () => {
    points = [];
    field.value = "";
    draw();
  });
  tree.addEventListener("change", syncSelection);
  syncSelection();
}

function typedConfirmations() {
  document.querySelectorAll("input[data-word]").forEach((input) => {
    const button = input.form && input.form.querySelector("button[type=submit]");
    if (!button) return;
    const check = () => {
      button.disabled = input.value.trim().toUpperCase() !== input.dataset.word;
    };
    input.addEventListener("input", check);
    check();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  liveDashboard();
  modeFrame();
  lasso();
  typedConfirmations();
});
