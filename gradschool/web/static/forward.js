// The forward page: its figure's behaviour (loaded by pages/layout.html).
"use strict";
const state = readHash({x1: 1, x2: -2, seed: 42});
const SIZES = [2, 3, 1], W = 560, H = 280;
const pos = (l, i) => [80 + l * 200, H / 2 + (i - (SIZES[l] - 1) / 2) * 90];

function draw(net) {
  const svg = document.getElementById("net");
  svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  for (let l = 1; l < SIZES.length; l++) {
    for (let j = 0; j < SIZES[l]; j++) {
      for (let i = 0; i < SIZES[l - 1]; i++) {
        const [x1, y1] = pos(l - 1, i), [x2, y2] = pos(l, j);
        const w = net ? net.weights[l - 1][j][i] : 0;
        el("line", {class: net ? `edge ${w >= 0 ? "pos" : "neg"}` : "edge", x1, y1, x2, y2,
                    "stroke-width": 1 + 3 * Math.min(1, Math.abs(w))}, svg);
      }
    }
  }
  SIZES.forEach((n, l) => {
    for (let i = 0; i < n; i++) {
      const [cx, cy] = pos(l, i);
      const g = el("g", {class: "node", id: `n${l}-${i}`}, svg);
      el("circle", {cx, cy, r: 32}, g);
      el("text", {x: cx, y: cy + 5, "text-anchor": "middle", class: "value"}, g, "?");
      const name = l === 0 ? `x${i + 1}` : l === SIZES.length - 1 ? "out" : `h${i + 1}`;
      el("text", {x: cx, y: cy - 40, "text-anchor": "middle"}, g, name);
    }
  });
}

async function run() {
  state.x1 = Number(document.getElementById("x1").value);
  state.x2 = Number(document.getElementById("x2").value);
  state.seed = Number(document.getElementById("seed").value);
  writeHash(state);
  const button = document.getElementById("run");
  const error = document.getElementById("error");
  let net;
  try {
    net = await api("/api/forward", {x: [state.x1, state.x2], seed: state.seed});
    error.textContent = "";
  } catch (e) {
    error.textContent = e.message;
    return;
  }
  button.disabled = true;
  draw(net);
  document.getElementById("prediction").textContent = "—";
  for (let l = 0; l < net.layers.length; l++) {
    net.layers[l].forEach((v, i) => {
      const g = document.getElementById(`n${l}-${i}`);
      g.classList.add("lit");
      g.querySelector(".value").textContent = fmt(v, 3);
    });
    await sleep(350);
  }
  document.getElementById("prediction").textContent = fmt(net.layers[net.layers.length - 1][0]);
  button.disabled = false;
}

document.getElementById("x1").value = state.x1;
document.getElementById("x2").value = state.x2;
document.getElementById("seed").value = state.seed;
document.getElementById("run").addEventListener("click", run);
draw(null);
loadCode("forward");
