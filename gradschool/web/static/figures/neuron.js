// Chapter 1's neuron playground: three sliders (w1, w2, b) for out = tanh(w1·x1 + w2·x2 + b) with fixed
// inputs; the server's scalar engine answers with the raw sum, the output and backward()'s slopes.
"use strict";

registerFigure("neuron", async (root, args) => {
  const x1 = Number(args.x1 ?? 0.5), x2 = Number(args.x2 ?? -0.3);
  const state = figureState(root, {w1: 0.5, w2: -0.3, b: 0});
  const names = {w1: "w₁", w2: "w₂", b: "b"};
  const inputs = {}, shown = {}, slopes = {};
  const controls = make("div", {class: "controls"});
  for (const k of Object.keys(names)) {
    inputs[k] = make("input", {type: "range", min: -3, max: 3, step: 0.01, value: state[k], "aria-label": k});
    shown[k] = make("output");
    slopes[k] = make("output", {class: `slope-${k}`});
    controls.append(make("label", {}, names[k] + " ", inputs[k], " ", shown[k]));
  }
  const raw = make("b", {class: "raw"}, "…"), out = make("b", {class: "out"}, "…");
  const svg = el("svg", {role: "img", "aria-label": "The tanh curve with the neuron's raw sum and output marked"});
  root.append(
    make("p", {class: "legend"}, `Inputs fixed at x₁ = ${x1}, x₂ = ${x2}. Drag a slider, or focus it and use the arrow keys.`),
    controls,
    make("p", {class: "readout", "aria-live": "polite"}, "raw sum ", raw, " · tanh output ", out),
    make("p", {class: "legend"}, "Slopes of the output, from backward(): ∂out/∂w₁ = ", slopes.w1,
         ", ∂out/∂w₂ = ", slopes.w2, ", ∂out/∂b = ", slopes.b),
    svg);

  function draw(r) {
    const W = 480, H = 200;
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const x = scale(-4, 4, 10, W - 10), y = scale(-1.1, 1.1, H - 10, 10);
    el("line", {class: "axis", x1: x(-4), y1: y(0), x2: x(4), y2: y(0)}, svg);
    el("line", {class: "axis", x1: x(0), y1: y(-1.1), x2: x(0), y2: y(1.1)}, svg);
    let d = "";
    for (let i = 0; i <= 80; i++) { const t = -4 + i / 10; d += `${i ? "L" : "M"}${x(t)},${y(Math.tanh(t))}`; }
    el("path", {class: "curve", d}, svg);
    const cx = x(Math.max(-4, Math.min(4, r.raw)));
    el("line", {class: "tangent", x1: cx, y1: y(0), x2: cx, y2: y(r.out)}, svg);
    el("circle", {class: "ball", cx, cy: y(r.out), r: 7}, svg);
    el("text", {x: x(-4) + 4, y: 20}, svg, "tanh(raw sum)");
  }

  let latest = 0;
  async function update() {
    const seq = ++latest;
    for (const k of Object.keys(names)) {
      state[k] = Number(inputs[k].value);
      shown[k].textContent = fmt(state[k], 2);
    }
    saveFigureState(root, state);
    try {
      const r = await api("/api/neuron", {w1: state.w1, w2: state.w2, b: state.b, x1, x2});
      if (seq !== latest) return;  // a newer slider position is on its way
      figureError(root, null);
      raw.textContent = fmt(r.raw);
      out.textContent = fmt(r.out);
      for (const k of Object.keys(names)) slopes[k].textContent = fmt(r.grads[k]);
      draw(r);
    } catch (err) {
      figureError(root, err);
    }
  }
  for (const k of Object.keys(names)) inputs[k].addEventListener("input", update);
  await update();
});
