// The loss page: its figure's behaviour (loaded by pages/layout.html).
"use strict";
const state = readHash({w: 3, lr: 0.1});
const START = 3;

function draw(r) {
  const svg = document.getElementById("plot"), W = 560, H = 260;
  svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const xs = r.curve.map(p => p[0]), top = Math.max(...r.curve.map(p => p[1]));
  const x = scale(xs[0], xs[xs.length - 1], 40, W - 10), y = scale(0, top, H - 25, 30);
  el("line", {class: "axis", x1: 40, y1: y(0), x2: W - 10, y2: y(0)}, svg);
  el("path", {class: "curve", d: r.curve.map((p, i) => `${i ? "L" : "M"}${x(p[0])},${y(p[1])}`).join("")}, svg);
  el("text", {x: 44, y: 20}, svg, "loss(w) = (w − 2)²");
  el("text", {x: x(2), y: H - 6, "text-anchor": "middle"}, svg, "w = 2");
  el("circle", {class: "ball", cx: x(r.w), cy: y(r.loss) - 9, r: 9}, svg);
}

function say(text, bad) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = bad ? "status bad" : "status good";
}

async function show(step) {
  try {
    let r = await api("/api/descent", {w: state.w, lr: state.lr});
    if (step) {
      document.getElementById("update").textContent =
        `w ← ${fmt(r.w, 3)} − ${fmt(state.lr, 2)} × ${fmt(r.grad, 3)} = ${fmt(r.new_w, 3)}`;
      if (Math.abs(r.new_w) > 1000) {  // the API's own limit on w
        say("Diverged: w left the chart. The learning rate is too high; press Reset.", true);
        document.getElementById("step").disabled = true;
        return;
      }
      const diverging = r.diverging;
      state.w = r.new_w;
      r = await api("/api/descent", {w: state.w, lr: state.lr});
      if (diverging) {
        say("Diverging: each step overshoots further and the loss grows. The learning rate is too high.", true);
      } else {
        say(r.loss < 1e-6 ? "Converged: the ball sits at the bottom." : "", false);
      }
    }
    writeHash({w: state.w, lr: state.lr});
    document.getElementById("readout").textContent = `w = ${fmt(r.w, 2)} · loss = ${fmt(r.loss, 2)}`;
    draw(r);
  } catch (e) {
    say(e.message + " Press Reset.", true);
  }
}

const lr = document.getElementById("lr");
lr.value = state.lr;
document.getElementById("lr-val").textContent = fmt(state.lr, 2);
lr.addEventListener("input", () => {
  state.lr = Number(lr.value);
  document.getElementById("lr-val").textContent = fmt(state.lr, 2);
  writeHash({w: state.w, lr: state.lr});
});
document.getElementById("step").addEventListener("click", () => show(true));
document.getElementById("reset").addEventListener("click", () => {
  state.w = START;
  document.getElementById("step").disabled = false;
  document.getElementById("status").textContent = "";
  document.getElementById("update").textContent = "";
  show(false);
});
show(false);
loadCode("loss");
