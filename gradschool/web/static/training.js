// The training page: its figure's behaviour (loaded by pages/layout.html).
"use strict";
const state = readHash({lr: 0.01, seed: 1337, mhidden: "8,8", mact: "relu", mlr: 0.1, mbatch: 20,
                        mnoise: 0.1, mseed: 1});
const $ = id => document.getElementById(id);

// One live training session over a websocket: the server runs the steps and streams the results.
class Trainer {
  constructor(prefix, config, onReset, onStep) {
    this.prefix = prefix;
    this.config = config;
    this.onReset = onReset;
    this.onStep = onStep;
    this.losses = [];
    this.ws = new WebSocket(`ws://${location.host}/api/train`);
    this.ws.onopen = () => this.reset();
    this.ws.onmessage = ev => this.receive(JSON.parse(ev.data));
    this.ws.onclose = () => this.status("Disconnected from the server; reload the page.", true);
    for (const cmd of ["step", "play", "pause"]) $(`${prefix}-${cmd}`).addEventListener("click", () => this.send({type: cmd}));
    $(`${prefix}-reset`).addEventListener("click", () => this.reset());
  }
  send(msg) { if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg)); }
  status(text, bad = false) { $(`${this.prefix}-status`).textContent = text; $(`${this.prefix}-status`).className = bad ? "status bad" : "status"; }
  reset() {
    const config = this.config();
    if (!config) return;
    this.losses = [];
    this.send({type: "reset", config});
  }
  receive(m) {
    if (m.type === "reset") {
      $(`${this.prefix}-steps`).textContent = "0";
      $(`${this.prefix}-loss`).textContent = "—";
      this.status("");
      this.onReset(m);
      lineChart($(`${this.prefix}-chart`), this.losses, "loss");
    } else if (m.type === "step") {
      this.losses.push(m.loss);
      $(`${this.prefix}-steps`).textContent = m.step;
      $(`${this.prefix}-loss`).textContent = fmt(m.loss);
      this.onStep(m);
      lineChart($(`${this.prefix}-chart`), this.losses, "loss");
    } else if (m.type === "diverged") {
      this.status(m.detail, true);
    } else if (m.type === "paused") {
      this.status(`Paused at step ${m.step}.`);
    } else if (m.type === "error") {
      this.status(m.detail, true);
    }
  }
}

// --- The four examples ---
const XS = [[2, 3, -1, 1], [3, -1, 0.5, 1], [0.5, 1, 1, 1], [1, 1, -1, 1]], YS = [1, -1, -1, 1];
$("tiny-lr").value = state.lr;
$("tiny-seed").value = state.seed;
const tiny = new Trainer("tiny", () => {
  state.lr = Number($("tiny-lr").value);
  state.seed = Number($("tiny-seed").value);
  writeHash(state);
  return {task: "tiny", lr: state.lr, seed: state.seed};
}, () => {
  $("tiny-table").innerHTML = XS.map((x, i) => `<tr><td>[${x.join(", ")}]</td><td>${YS[i]}</td><td class="num" id="tiny-pred-${i}">—</td></tr>`).join("");
}, m => m.predictions.forEach((p, i) => { $(`tiny-pred-${i}`).textContent = fmt(p); }));
$("tiny-lr").addEventListener("change", () => {
  state.lr = Number($("tiny-lr").value);
  writeHash(state);
  tiny.send({type: "lr", lr: state.lr});
});
$("tiny-seed").addEventListener("change", () => tiny.reset());

// --- Two moons ---
$("moons-hidden").value = state.mhidden;
$("moons-activation").value = state.mact;
$("moons-lr").value = state.mlr;
$("moons-batch").value = state.mbatch;
$("moons-noise").value = state.mnoise;
$("moons-seed").value = state.mseed;
let moonsData = null;

function drawMoons(grid) {
  const canvas = $("moons-map"), ctx = canvas.getContext("2d"), n = grid.length;
  const small = document.createElement("canvas");
  small.width = small.height = n;
  const img = small.getContext("2d").createImageData(n, n);
  grid.forEach((row, j) => row.forEach((s, i) => {
    const a = Math.tanh(Math.abs(s)), k = 4 * (j * n + i);
    const [r, g, b] = s > 0 ? [31, 111, 209] : [217, 72, 15];
    img.data.set([255 + (r - 255) * a * 0.6, 255 + (g - 255) * a * 0.6, 255 + (b - 255) * a * 0.6, 255], k);
  }));
  small.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  const [x0lo, x0hi, x1lo, x1hi] = moonsData.bounds;
  const X = scale(x0lo, x0hi, 0, canvas.width), Y = scale(x1hi, x1lo, 0, canvas.height);
  moonsData.points.forEach(([a, b], i) => {
    ctx.beginPath();
    ctx.arc(X(a), Y(b), 4, 0, 2 * Math.PI);
    ctx.fillStyle = moonsData.labels[i] > 0 ? "#1f6fd1" : "#d9480f";
    ctx.strokeStyle = "#fff";
    ctx.fill();
    ctx.stroke();
  });
}

const moons = new Trainer("moons", () => {
  const hidden = $("moons-hidden").value.split(",").map(s => Number(s.trim()));
  if (!hidden.every(h => Number.isInteger(h) && h > 0)) {
    $("moons-status").textContent = "Write the hidden layer sizes as whole numbers separated by commas, e.g. 8,8.";
    $("moons-status").className = "status bad";
    return null;
  }
  Object.assign(state, {mhidden: hidden.join(","), mact: $("moons-activation").value, mlr: Number($("moons-lr").value),
                        mbatch: Number($("moons-batch").value), mnoise: Number($("moons-noise").value),
                        mseed: Number($("moons-seed").value)});
  writeHash(state);
  return {task: "moons", hidden, activation: state.mact, lr: state.mlr, batch_size: state.mbatch,
          noise: state.mnoise, seed: state.mseed};
}, m => {
  moonsData = m;
  $("moons-accuracy").textContent = "—";
  drawMoons(m.grid);
}, m => {
  $("moons-accuracy").textContent = `${Math.round(m.accuracy * 100)}%`;
  if (m.grid) drawMoons(m.grid);
});
for (const id of ["moons-hidden", "moons-activation", "moons-batch", "moons-noise", "moons-seed"]) {
  $(id).addEventListener("change", () => moons.reset());
}
$("moons-lr").addEventListener("change", () => {
  state.mlr = Number($("moons-lr").value);
  writeHash(state);
  moons.send({type: "lr", lr: state.mlr});
});
loadCode("training");
fetch("/api/source/moons").then(r => r.json()).then(s => { $("code-moons").textContent = s.code; });
