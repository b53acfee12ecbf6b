// Chapter 6's race: the server times one training step (forward, loss, backward, update) of the same MLP on
// the scalar engine and on the Tensor engine, from the same weights; the bars share one linear time axis.
"use strict";

registerFigure("engine-race", async (root, args) => {
  const state = figureState(root, {points: Number(args.points || 100), hidden: Number(args.hidden || 16)});
  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const slider = (key, label, min, max, step) =>
    [key, rangeControl(controls, label, min, max, step, state[key]).input];
  const sliders = [slider("points", "points", 10, 200, 10), slider("hidden", "hidden units", 2, 32, 2)];
  const go = Object.assign(document.createElement("button"), {type: "button", textContent: "Race one step"});
  controls.appendChild(go);

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  const svg = el("svg", {role: "img", "aria-label": "milliseconds per step of each engine"});
  const graphs = document.createElement("p");
  graphs.className = "legend graphs";
  const losses = document.createElement("p");
  losses.className = "legend losses";
  root.append(readout, svg, graphs, losses);

  async function race() {
    for (const [key, input] of sliders) state[key] = Number(input.value);
    saveFigureState(root, state);
    go.disabled = true;
    readout.textContent = "racing…";
    try {
      const r = await api("/api/figure/engine-race", {points: state.points, hidden: state.hidden});
      figureError(root, null);
      draw(r);
    } catch (err) {
      readout.textContent = "";
      figureError(root, err);
    } finally {
      go.disabled = false;
    }
  }

  function draw(r) {
    const times = n => n.toFixed(n >= 10 ? 0 : 1);
    const verdict = r.ratio >= 1 ? `the Tensor engine is ${times(r.ratio)}× faster` :
      `the scalar engine is ${times(1 / r.ratio)}× faster (too little work to pay for the NumPy calls)`;
    readout.textContent = `MLP(2, [${state.hidden}, ${state.hidden}, 1]), ${r.parameters} parameters, ` +
      `${r.points} points: ${verdict} on this machine`;
    const W = 480, H = 110, P = 70, x = scale(0, Math.max(r.ms_scalar, r.ms_tensor), P, W - 10);
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    [["scalar", r.ms_scalar, 20], ["Tensor", r.ms_tensor, 62]].forEach(([name, ms, top]) => {
      el("text", {x: 2, y: top + 18}, svg, name);
      el("rect", {class: `race ${name}`, x: P, y: top, width: Math.max(x(ms) - P, 1.5), height: 26}, svg);
      el("text", {x: Math.min(x(ms) + 6, W - 120), y: top + 18, class: "ms"}, svg, `${ms.toFixed(2)} ms`);
    });
    graphs.textContent = `one loss is a graph of ${r.nodes_scalar} Values on the scalar engine, ` +
      `of ${r.nodes_tensor} Tensors on the Tensor engine`;
    losses.textContent = `the same loss before the step: scalar ${r.loss_scalar.toFixed(12)}, ` +
      `Tensor ${r.loss_tensor.toFixed(12)}`;
  }

  go.addEventListener("click", race);
  await race();
});
