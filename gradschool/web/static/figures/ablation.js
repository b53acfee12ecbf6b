// Chapter 8's ablation: rung 8's deep model trained four ways (with and without residual connections and
// layer norm) on the server, on request; the loss curves grow as the steps arrive (the page asks about 5
// times a second), and once a variant has finished, its per-layer statistics: the size of the residual
// stream after each layer and of the gradient each layer's weights got.
"use strict";

registerFigure("ablation", async (root, args) => {
  const state = figureState(root, {n_layer: Number(args.n_layer || 4), steps: Number(args.steps || 60),
                                   show: 0});
  const NAMES = ["residual + layer norm", "residual, no layer norm", "layer norm, no residual",
                 "neither"];
  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const slider = (key, label, min, max, step) =>
    rangeControl(controls, label, min, max, step, state[key]).input;
  const layers = slider("n_layer", "blocks", 1, 8, 1);
  const steps = slider("steps", "steps", 5, 300, 5);
  const button = Object.assign(document.createElement("button"), {type: "button",
                                                                   textContent: "train the four variants"});
  controls.appendChild(button);
  const status = document.createElement("p");
  status.className = "ablation-status";
  status.setAttribute("aria-live", "polite");
  const svg = el("svg", {role: "img", class: "ablation-chart",
                         "aria-label": "training loss of the four variants, step by step"});
  const legend = document.createElement("ul");
  legend.className = "ablation-legend";
  const pickLabel = document.createElement("label");
  const pick = document.createElement("select");
  pick.setAttribute("aria-label", "variant whose layers to show");
  NAMES.forEach((n, i) => pick.add(new Option(n, i)));
  pick.value = state.show;
  pickLabel.append("per-layer statistics of ", pick);
  const tableBox = document.createElement("div");
  tableBox.className = "ablation-layers";
  root.append(status, svg, legend, pickLabel, tableBox);

  function chart(variants) {
    const W = 480, H = 220, P = 40;
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const all = variants.flatMap(v => v.losses);
    const top = Math.max(4.5, ...all), bottom = Math.min(4, Math.floor(Math.min(...all) * 2) / 2);
    const x = scale(0, Math.max(state.steps - 1, 1), P, W - 10), y = scale(bottom, top, H - 25, 10);
    el("line", {class: "axis", x1: P, y1: H - 25, x2: W - 10, y2: H - 25}, svg);
    el("line", {class: "axis", x1: P, y1: 10, x2: P, y2: H - 25}, svg);
    el("text", {x: 4, y: 20}, svg, top.toFixed(1));
    el("text", {x: 4, y: H - 25}, svg, bottom.toFixed(1));
    el("text", {x: W - 10, y: H - 6, "text-anchor": "end"}, svg, `training loss, step 1 to ${state.steps}`);
    variants.forEach((v, i) => {
      if (!v.losses.length) return;
      const d = v.losses.map((l, s) => `${s ? "L" : "M"}${x(s).toFixed(1)},${y(l).toFixed(1)}`).join("");
      el("path", {class: `curve v${i}`, d}, svg);
    });
  }

  function table(variant) {
    tableBox.innerHTML = "";
    if (!variant || !variant.layers) return;
    const t = document.createElement("table");
    t.className = "layer-stats";
    const head = t.createTHead().insertRow();
    for (const h of ["layer", "stream mean", "stream std", "grad rms"]) {
      const th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    }
    const body = t.createTBody();
    for (const l of variant.layers) {
      const tr = body.insertRow();
      const cells = [l.layer === 0 ? "embeddings" : `block ${l.layer}`, l.mean.toExponential(2),
                     l.std.toExponential(2), l.grad_rms.toExponential(2)];
      for (const c of cells) tr.insertCell().textContent = c;
    }
    tableBox.appendChild(t);
  }

  let last = null;
  function draw(r) {
    last = r;
    chart(r.variants);
    legend.innerHTML = "";
    r.variants.forEach((v, i) => {
      const li = document.createElement("li");
      li.className = `v${i}`;
      const n = v.losses.length;
      const tail = v.losses.slice(-50);
      const mean = tail.reduce((a, b) => a + b, 0) / Math.max(tail.length, 1);
      li.textContent = n ? `${NAMES[i]}: step ${n}, loss ${fmt(v.losses[n - 1])}, mean of the last ` +
                           `${tail.length}: ${fmt(mean)}` : `${NAMES[i]}: waiting`;
      legend.appendChild(li);
    });
    table(r.variants[Number(pick.value)]);
  }

  const blocks = () => `${state.n_layer} block${state.n_layer === 1 ? "" : "s"}`;
  let generation = 0;
  async function follow(start) {
    const mine = ++generation;
    state.n_layer = Number(layers.value);
    state.steps = Number(steps.value);
    saveFigureState(root, state);
    for (;;) {
      let r;
      try {
        r = await api("/api/figure/ablation", {n_layer: state.n_layer, steps: state.steps, start});
      } catch (err) {
        figureError(root, err);
        return;
      }
      if (mine !== generation) return;  // the sizes changed: a newer request draws
      figureError(root, r.error);
      if (!r.started) {
        status.textContent = `${blocks()}, ${state.steps} steps: not trained yet; press the button`;
        draw({variants: []});
        return;
      }
      draw(r);
      const trained = r.variants.reduce((a, v) => a + v.losses.length, 0);
      status.textContent = r.done ? `trained: ${blocks()}, ${state.steps} steps, four variants`
                                  : `training on the server: ${trained} of ${4 * state.steps} steps`;
      if (r.done) return;
      await sleep(200);
    }
  }

  button.addEventListener("click", () => follow(true));
  layers.addEventListener("change", () => follow(false));
  steps.addEventListener("change", () => follow(false));
  pick.addEventListener("change", () => {
    state.show = Number(pick.value);
    saveFigureState(root, state);
    if (last) table(last.variants[state.show]);
  });
  await follow(false);
});
