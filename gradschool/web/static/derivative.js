// The derivative page: its figure's behaviour (loaded by pages/layout.html).
"use strict";
const state = readHash({x: 1});
const W = 560, H = 300;
const X = scale(-3, 3, 30, W - 10), Y = scale(-1, 9, H - 15, 10);
let latest = 0, dragging = false;

function draw(r) {
  const svg = document.getElementById("plot");
  svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  el("line", {class: "axis", x1: X(-3), y1: Y(0), x2: X(3), y2: Y(0)}, svg);
  el("line", {class: "axis", x1: X(0), y1: Y(-1), x2: X(0), y2: Y(9)}, svg);
  el("path", {class: "curve", d: r.curve.map((p, i) => `${i ? "L" : "M"}${X(p[0])},${Y(p[1])}`).join("")}, svg);
  const t = x => r.f + r.dfdx * (x - r.x);
  el("line", {class: "tangent", x1: X(r.x - 1.5), y1: Y(t(r.x - 1.5)), x2: X(r.x + 1.5), y2: Y(t(r.x + 1.5))}, svg);
  el("circle", {class: "handle", id: "handle", cx: X(r.x), cy: Y(r.f), r: 10}, svg);
  el("text", {x: X(-3) + 4, y: 22}, svg, "f(x) = x²");
}

async function update(x) {
  const seq = ++latest;
  state.x = Math.round(Math.max(-3, Math.min(3, x)) * 100) / 100;
  document.getElementById("x").value = state.x;
  writeHash(state);
  const r = await api("/api/derivative", {x: state.x});
  if (seq !== latest) return;
  document.getElementById("readout").textContent =
    `x = ${fmt(r.x, 2)}  ·  f(x) = ${fmt(r.f, 2)}  ·  f'(x) = ${fmt(r.dfdx, 2)}`;
  draw(r);
}

const svg = document.getElementById("plot");
function pointerX(ev) {
  const box = svg.getBoundingClientRect();
  return X.invert((ev.clientX - box.left) / box.width * W);
}
svg.addEventListener("pointerdown", ev => { dragging = true; svg.setPointerCapture(ev.pointerId); update(pointerX(ev)); });
svg.addEventListener("pointermove", ev => { if (dragging) update(pointerX(ev)); });
svg.addEventListener("pointerup", () => { dragging = false; });
document.getElementById("x").addEventListener("input", ev => update(Number(ev.target.value)));
update(state.x);
loadCode("derivative");
