// Chapter 5's learning-rate finder: one training whose rate grows from 10^lo to 10^hi, a step at each rate,
// computed by the server; the minibatch losses (dots) and their running average (line) against the exponent.
// A probe reads out any one step: its rate and its loss.
"use strict";

registerFigure("lr-finder", async (root, args) => {
  const state = figureState(root, {lo: Number(args.lo ?? -3), hi: Number(args.hi ?? 1),
                                   steps: Number(args.steps || 300), probe: 0});
  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const slider = (key, label, min, max, step) => {
    const {input, out} = rangeControl(controls, label, min, max, step, state[key]);
    return [key, input, out];
  };
  const range = [slider("lo", "lowest exponent", -5, -1, 0.5), slider("hi", "highest exponent", -1, 2, 0.5)];
  const [, probe, probeOut] = slider("probe", "look at step", 0, state.steps - 1, 1);

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  const probeText = document.createElement("p");
  probeText.className = "readout probe";
  const svg = el("svg", {role: "img", "aria-label": "loss against the learning rate's exponent"});
  root.append(readout, svg, probeText);
  let result = null;

  async function update() {
    for (const [key, input] of range) state[key] = Number(input.value);
    saveFigureState(root, state);
    try {
      result = await api("/api/figure/lr-finder", {lo: state.lo, hi: state.hi, steps: state.steps});
      figureError(root, null);
      probe.max = result.losses.length - 1;
      state.probe = Math.min(state.probe, result.losses.length - 1);
      probe.value = state.probe;
      const low = result.lowest;
      readout.textContent = `lowest running-average loss ${fmt(low.loss)} at rate ${(10 ** low.exponent).toPrecision(3)}` +
        ` (10^${low.exponent.toFixed(2)})` + (result.stopped_early ? `; diverged after ${result.losses.length} steps` : "");
      showProbe();
    } catch (err) {
      figureError(root, err);
    }
  }

  function showProbe() {
    state.probe = Number(probe.value);
    probeOut.textContent = probe.value;
    saveFigureState(root, state);
    const i = state.probe, e = result.exponents[i];
    probeText.textContent = `step ${i}: rate ${(10 ** e).toPrecision(4)} (10^${e.toFixed(3)}), ` +
      `minibatch loss ${fmt(result.losses[i])}`;
    draw();
  }

  function draw() {
    const W = 480, H = 240, P = 40, r = result;
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    // the climb is cut at 1.5 times the first loss, so the fall before it keeps its height
    const top = Math.min(Math.max(...r.losses), 1.5 * r.losses[0]), bottom = Math.min(...r.losses);
    const x = scale(state.lo, state.hi, P, W - 10), y = scale(bottom, top, H - 28, 10);
    el("line", {class: "axis", x1: P, y1: H - 28, x2: W - 10, y2: H - 28}, svg);
    el("line", {class: "axis", x1: P, y1: 10, x2: P, y2: H - 28}, svg);
    for (let e = Math.ceil(state.lo); e <= state.hi; e++) {
      el("text", {x: x(e), y: H - 12, "text-anchor": "middle"}, svg, `1e${e}`);
    }
    el("text", {x: 2, y: 20}, svg, top.toFixed(1));
    el("text", {x: 2, y: H - 28}, svg, bottom.toFixed(1));
    r.losses.forEach((v, i) => el("circle", {class: "dot", cx: x(r.exponents[i]), cy: y(Math.min(v, top)),
                                             r: 1.6}, svg));
    const d = r.smoothed.map((v, i) => `${i ? "L" : "M"}${x(r.exponents[i]).toFixed(1)},${y(Math.min(v, top)).toFixed(1)}`);
    el("path", {class: "curve", d: d.join("")}, svg);
    const i = state.probe;
    el("line", {class: "probe", x1: x(r.exponents[i]), y1: 10, x2: x(r.exponents[i]), y2: H - 28}, svg);
    el("text", {x: W - 10, y: 22, "text-anchor": "end"}, svg, "learning rate (log scale)");
  }

  for (const [, input] of range) input.addEventListener("change", update);
  probe.addEventListener("input", () => result && showProbe());
  await update();
});
