// The neuron page: its figure's behaviour (loaded by pages/layout.html).
"use strict";
const state = readHash({w1: 0.5, w2: -0.3, b: 0});
const ids = ["w1", "w2", "b"];

function drawPlot(raw, out) {
  const svg = document.getElementById("plot"), W = 480, H = 200;
  svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const x = scale(-4, 4, 10, W - 10), y = scale(-1.1, 1.1, H - 10, 10);
  el("line", {class: "axis", x1: x(-4), y1: y(0), x2: x(4), y2: y(0)}, svg);
  el("line", {class: "axis", x1: x(0), y1: y(-1.1), x2: x(0), y2: y(1.1)}, svg);
  let d = "";
  for (let i = 0; i <= 80; i++) { const t = -4 + i / 10; d += `${i ? "L" : "M"}${x(t)},${y(Math.tanh(t))}`; }
  el("path", {class: "curve", d}, svg);
  const cx = x(Math.max(-4, Math.min(4, raw)));
  el("line", {class: "tangent", x1: cx, y1: y(0), x2: cx, y2: y(out)}, svg);
  el("circle", {class: "ball", cx, cy: y(out), r: 7}, svg);
  el("text", {x: x(-4) + 4, y: 20}, svg, "tanh(raw)");
}

let latest = 0;
async function update() {
  const seq = ++latest;
  for (const k of ids) {
    state[k] = Number(document.getElementById(k).value);
    document.getElementById(k + "-val").textContent = fmt(state[k], 2);
  }
  writeHash(state);
  try {
    const r = await api("/api/neuron", {w1: state.w1, w2: state.w2, b: state.b});
    if (seq !== latest) return;  // a newer slider position is on its way
    document.getElementById("raw").textContent = fmt(r.raw);
    document.getElementById("out").textContent = fmt(r.out);
    for (const k of ids) document.getElementById("g-" + k).textContent = fmt(r.grads[k]);
    document.getElementById("error").textContent = "";
    drawPlot(r.raw, r.out);
  } catch (e) {
    document.getElementById("error").textContent = e.message;
  }
}

for (const k of ids) {
  const input = document.getElementById(k);
  input.value = state[k];
  input.addEventListener("input", update);
}
update();
loadCode("neuron");
