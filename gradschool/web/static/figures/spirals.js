// Chapter 3's live training: rung 3's three spirals trained by the server's scalar engine over a websocket.
// The settings (learning rate, its decay, batch size, steps) live in the URL hash; each progress message
// redraws the class field of the plane, the train and val curves, and the learning rate of every step.
"use strict";

registerFigure("spirals", async (root, args) => {
  // an error box only once there is an error to show: none takes space before
  const clearError = () => root.querySelector(":scope > .status.bad") && figureError(root, null);
  const RATES = [0.01, 0.03, 0.1, 0.3, 0.5, 1, 3, 10, 30, 100];
  const BATCHES = [1, 4, 16, 64, 120];  // a step of 120 takes ~0.1 s: still 5 pictures a second
  const STEPS = [100, 300, 1000];
  const defaults = {lr: Number(args.lr || 0.5), decay: (args.decay || "true") === "true",
                    batch: Number(args.batch || 16), steps: Number(args.steps || 300)};
  const state = figureState(root, defaults);
  if (!RATES.includes(state.lr)) state.lr = defaults.lr;

  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const labelled = (text, input, out = null) => {
    const wrap = document.createElement("label");
    wrap.append(text + " ", input);
    if (out) wrap.append(" ", out);
    controls.appendChild(wrap);
    return input;
  };
  const rate = Object.assign(document.createElement("input"),
                             {type: "range", min: 0, max: RATES.length - 1, step: 1,
                              value: RATES.indexOf(state.lr)});
  rate.setAttribute("aria-label", "learning rate");
  const rateOut = document.createElement("output");
  labelled("learning rate", rate, rateOut);
  const decay = Object.assign(document.createElement("input"), {type: "checkbox", checked: state.decay});
  decay.setAttribute("aria-label", "decay the learning rate");
  labelled("decay it", decay);
  const select = (label, options, value) => {
    const s = document.createElement("select");
    s.setAttribute("aria-label", label);
    for (const o of options) s.add(new Option(String(o), o));
    s.value = options.includes(value) ? value : options[0];
    return labelled(label, s);
  };
  const batch = select("batch size", BATCHES, state.batch);
  const steps = select("steps", STEPS, state.steps);
  const train = Object.assign(document.createElement("button"), {type: "button", textContent: "train"});
  const pause = Object.assign(document.createElement("button"), {type: "button", textContent: "pause",
                                                                 disabled: true});
  controls.append(train, pause);

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  root.appendChild(readout);
  const panels = document.createElement("div");
  panels.className = "spirals-panels";
  root.appendChild(panels);
  const plane = el("svg", {role: "img", "aria-label": "the class the network gives every point of the plane, " +
                                                      "with the training points (dots) and validation points (rings)"});
  const curves = el("svg", {role: "img", "aria-label": "train and validation loss, and the learning rate of each step"});
  panels.append(plane, curves);

  let ws = null, run = null, cells = [];

  function settings() {
    state.lr = RATES[Number(rate.value)];
    state.decay = decay.checked;
    state.batch = Number(batch.value);
    state.steps = Number(steps.value);
    rateOut.textContent = String(state.lr);
    saveFigureState(root, state);
  }

  function drawPlane(start) {
    const S = 300, [lo, hi] = start.bounds, n = start.grid, c = S / n;
    const x = scale(lo, hi, 0, S), y = scale(lo, hi, S, 0);
    plane.innerHTML = "";
    plane.setAttribute("viewBox", `0 0 ${S} ${S}`);
    cells = [];
    for (let i = 0; i < n * n; i++) {
      cells.push(el("rect", {x: (i % n) * c, y: Math.floor(i / n) * c, width: c, height: c},
                    plane));
    }
    for (const [px, py, label] of start.train) {
      el("circle", {class: `point c${label}`, cx: x(px), cy: y(py), r: 3.2}, plane);
    }
    for (const [px, py, label] of start.val) {
      el("circle", {class: `point val c${label}`, cx: x(px), cy: y(py), r: 3.6}, plane);
    }
  }

  function drawField(field) {
    field.forEach(([cls, p], i) => {
      cells[i].setAttribute("class", `cell c${cls}`);
      cells[i].setAttribute("fill-opacity", (0.08 + 0.5 * Math.max(0, p - 1 / 3) * 1.5).toFixed(2));
    });
  }

  function drawCurves() {
    const W = 480, H = 300, P = 44, lrTop = 215;
    curves.innerHTML = "";
    curves.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const finite = v => v !== null && Number.isFinite(v);
    const shown = [...run.batch, ...run.points.flatMap(p => [p.train, p.val])].filter(finite);
    const top = Math.min(Math.max(...shown, 1.2), 3);
    const x = scale(0, run.steps, P, W - 10), y = scale(0, top, lrTop - 30, 10);
    el("line", {class: "axis", x1: P, y1: lrTop - 30, x2: W - 10, y2: lrTop - 30}, curves);
    el("line", {class: "axis", x1: P, y1: 10, x2: P, y2: lrTop - 30}, curves);
    el("text", {x: 4, y: 20}, curves, top.toFixed(1));
    el("text", {x: 4, y: lrTop - 30}, curves, "0");
    const path = (pts, cls) => {
      const d = pts.map(([i, v], k) => `${k ? "L" : "M"}${x(i).toFixed(1)},${y(Math.min(v, top)).toFixed(1)}`);
      if (d.length) el("path", {class: cls, d: d.join("")}, curves);
    };
    path(run.batch.map((v, i) => [i + 1, v]).filter(([, v]) => finite(v)), "batch-loss");
    path(run.points.filter(p => finite(p.train)).map(p => [p.step, p.train]), "train-loss");
    path(run.points.filter(p => finite(p.val)).map(p => [p.step, p.val]), "val-loss");
    el("text", {class: "key train-key", x: W - 10, y: 24, "text-anchor": "end"}, curves, "train loss");
    el("text", {class: "key val-key", x: W - 10, y: 40, "text-anchor": "end"}, curves, "val loss");
    el("text", {class: "key batch-key", x: W - 10, y: 56, "text-anchor": "end"}, curves, "batch loss");
    // the learning rate of each step, under the losses
    const lrMax = Math.max(...run.lrs, 1e-9), ly = scale(0, lrMax, H - 22, lrTop);
    el("line", {class: "axis", x1: P, y1: H - 22, x2: W - 10, y2: H - 22}, curves);
    const d = run.lrs.map((v, i) => `${i ? "L" : "M"}${x(i + 1).toFixed(1)},${ly(v).toFixed(1)}`).join("");
    if (d) el("path", {class: "lr-curve", d}, curves);
    el("text", {x: 4, y: lrTop + 10}, curves, `lr ${lrMax.toPrecision(2)}`);
    el("text", {x: W - 10, y: H - 6, "text-anchor": "end"}, curves, `step (of ${run.steps})`);
  }

  function show(m) {
    run.batch.push(...m.batch_losses);
    run.lrs.push(...m.lrs);
    run.points.push({step: m.step, train: m.train_loss, val: m.val_loss});
    const loss = v => (v === null ? "∞" : fmt(v));
    readout.textContent = `step ${m.step} of ${run.steps} · train loss ${loss(m.train_loss)} ` +
      `(${Math.round(m.train_acc * 100)}%) · val loss ${loss(m.val_loss)} (${Math.round(m.val_acc * 100)}%)`;
    root.dataset.step = m.step;
    drawField(m.field);
    drawCurves();
  }

  function start() {
    settings();
    clearError();
    if (ws) ws.close();
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/figure/spirals`);
    const sent = {type: "start", lr: state.lr, decay: state.decay, batch_size: state.batch, steps: state.steps};
    ws.addEventListener("open", () => ws.send(JSON.stringify(sent)));
    const mine = ws;
    ws.addEventListener("message", e => {
      if (mine !== ws) return;
      const m = JSON.parse(e.data);
      if (m.type === "start") {
        run = {steps: m.steps, batch: [], lrs: [], points: []};
        root.dataset.state = "training";
        drawPlane(m);
        show(m);
        pause.disabled = false;
        pause.textContent = "pause";
      } else if (m.type === "progress") {
        show(m);
        if (m.done) {
          root.dataset.state = "done";
          pause.disabled = true;
        }
      } else if (m.type === "diverged") {
        show(m);
        root.dataset.state = "diverged";
        pause.disabled = true;
        figureError(root, m.detail);
      } else if (m.type === "paused") {
        root.dataset.state = "paused";
      } else if (m.type === "error") {
        figureError(root, m.detail);
      }
    });
  }

  for (const input of [rate, decay, batch, steps]) input.addEventListener("change", start);
  rate.addEventListener("input", settings);
  train.addEventListener("click", start);
  pause.addEventListener("click", () => {
    const resuming = pause.textContent === "resume";
    ws.send(JSON.stringify({type: resuming ? "resume" : "pause"}));
    pause.textContent = resuming ? "pause" : "resume";
    if (resuming) root.dataset.state = "training";
  });
  start();
});
