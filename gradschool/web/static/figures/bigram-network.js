// Chapter 4's network, trained live: rung 4's 27 x 27 table of logits learns by gradient descent on the
// server's Tensor engine, and its loss falls to the loss of counting (dashed lines: add-one and no smoothing).
"use strict";

registerFigure("bigram-network", async (root, args) => {
  // an error box only once there is an error to show: none takes space before
  const clearError = () => root.querySelector(":scope > .status.bad") && figureError(root, null);
  const RATES = [1, 5, 10, 50, 100];
  const STEPS = [50, 200, 500];
  const state = figureState(root, {lr: Number(args.lr || 50), steps: Number(args.steps || 200)});

  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const select = (label, options, value) => {
    const s = document.createElement("select");
    s.setAttribute("aria-label", label);
    for (const o of options) s.add(new Option(String(o), o));
    s.value = options.includes(value) ? value : options[0];
    const wrap = document.createElement("label");
    wrap.append(label + " ", s);
    controls.appendChild(wrap);
    return s;
  };
  const rate = select("learning rate", RATES, state.lr);
  const steps = select("steps", STEPS, state.steps);
  const train = Object.assign(document.createElement("button"), {type: "button", textContent: "train"});
  controls.appendChild(train);
  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  root.appendChild(readout);
  const panels = document.createElement("div");
  panels.className = "network-panels";
  root.appendChild(panels);
  const chart = el("svg", {role: "img", "aria-label": "the network's loss at each step, and counting's loss"});
  const closeUp = el("svg", {role: "img", "aria-label": "close up: the network's loss near counting's loss"});
  panels.append(chart, closeUp);

  let ws = null, run = null;

  // the loss on [lo, hi]: the whole fall, then a close-up of where it meets counting
  function drawInto(svg, lo, hi, title, clip) {
    const W = 480, H = 200, P = 52;
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const x = scale(0, run.steps, P, W - 10), y = scale(lo, hi, H - 25, 10);
    el("line", {class: "axis", x1: P, y1: H - 25, x2: W - 10, y2: H - 25}, svg);
    el("line", {class: "axis", x1: P, y1: 10, x2: P, y2: H - 25}, svg);
    const digits = hi - lo < 0.2 ? 3 : 1;
    el("text", {x: 4, y: 20}, svg, hi.toFixed(digits));
    el("text", {x: 4, y: H - 25}, svg, lo.toFixed(digits));
    el("text", {x: P + 8, y: 24}, svg, title);
    el("line", {class: "count-line", x1: P, x2: W - 10, y1: y(run.count), y2: y(run.count)}, svg);
    el("text", {class: "count-key", x: W - 10, y: y(run.count) - 6, "text-anchor": "end"}, svg,
       `counting, add-one ${fmt(run.count)}`);
    el("line", {class: "best-line", x1: P, x2: W - 10, y1: y(run.best), y2: y(run.best)}, svg);
    el("text", {class: "best-key", x: W - 10, y: y(run.best) + 16, "text-anchor": "end"}, svg,
       `counting, no smoothing ${fmt(run.best)}`);
    const pts = run.losses.map((v, i) => [i, v]).filter(([, v]) => v !== null && (!clip || v <= hi));
    const d = pts.map(([i, v], k) => `${k ? "L" : "M"}${x(i).toFixed(1)},` +
                                     `${y(Math.min(Math.max(v, lo), hi)).toFixed(1)}`);
    if (d.length) el("path", {class: "curve", d: d.join("")}, svg);
    el("text", {x: W - 10, y: H - 6, "text-anchor": "end"}, svg, `step (of ${run.steps})`);
  }

  function draw() {
    drawInto(chart, 2.3, 3.4, "the loss", false);
    drawInto(closeUp, run.best - 0.01, run.best + 0.06, "close up", true);
  }

  function show(m) {
    run.losses.push(...m.losses);
    const loss = m.loss === null ? "∞" : fmt(m.loss);
    const diff = m.loss === null ? "" : `: difference ${m.loss - run.count >= 0 ? "+" : "−"}${fmt(Math.abs(m.loss - run.count))}`;
    readout.textContent = `step ${m.step} of ${run.steps} · network ${loss} vs counting ${fmt(run.count)}${diff}`;
    root.dataset.step = m.step;
    root.dataset.loss = m.loss;
    draw();
  }

  function start() {
    state.lr = Number(rate.value);
    state.steps = Number(steps.value);
    saveFigureState(root, state);
    clearError();
    if (ws) ws.close();
    const mine = ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}` +
                                    "/api/figure/bigram/train");
    ws.addEventListener("open", () => ws.send(JSON.stringify({type: "start", lr: state.lr, steps: state.steps})));
    ws.addEventListener("message", e => {
      if (mine !== ws) return;
      const m = JSON.parse(e.data);
      if (m.type === "start") {
        run = {steps: m.steps, count: m.count_nll, best: m.best_nll, losses: []};
        root.dataset.state = "training";
        show(m);
      } else if (m.type === "progress") {
        show(m);
        if (m.done) root.dataset.state = "done";
      } else if (m.type === "diverged") {
        show(m);
        root.dataset.state = "diverged";
        figureError(root, m.detail);
      } else if (m.type === "error") {
        figureError(root, m.detail);
      }
    });
  }

  rate.addEventListener("change", start);
  steps.addEventListener("change", start);
  train.addEventListener("click", start);
  start();
});
