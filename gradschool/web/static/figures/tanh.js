// Chapter 1's tanh figure: the S-curve tanh(x) and its slope 1 − tanh(x)², both computed by the scalar
// engine (Value.tanh and backward()), with the neuron's operating point marked on each.
"use strict";

registerFigure("tanh", async (root, args) => {
  const state = figureState(root, {x: Number(args.x ?? 0.34)});
  const input = make("input", {type: "range", min: -4, max: 4, step: 0.01, value: state.x,
                               "aria-label": "raw sum x"});
  const shown = make("output");
  const t = make("b", {class: "t"}, "…"), slope = make("b", {class: "slope"}, "…");
  const svg = el("svg", {role: "img", "aria-label": "tanh(x) and its slope 1 - tanh(x) squared, the point x marked"});
  root.append(make("div", {class: "controls"}, make("label", {}, "raw sum x ", input, " ", shown)),
              make("p", {class: "readout", "aria-live": "polite"}, "tanh(x) = ", t, " · slope 1 − tanh(x)² = ", slope),
              svg);

  function draw(r) {
    const W = 480, H = 220;
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const X = scale(-4, 4, 10, W - 10), Y = scale(-1.1, 1.1, H - 12, 12);
    el("line", {class: "axis", x1: X(-4), y1: Y(0), x2: X(4), y2: Y(0)}, svg);
    el("line", {class: "axis", x1: X(0), y1: Y(-1.1), x2: X(0), y2: Y(1.1)}, svg);
    const path = k => r.curve.map((p, i) => `${i ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[k]).toFixed(1)}`).join("");
    el("path", {class: "curve", d: path(1)}, svg);
    el("path", {class: "curve slope-curve", d: path(2)}, svg);
    el("line", {class: "tangent", x1: X(r.x), y1: Y(-1.1), x2: X(r.x), y2: Y(1.1)}, svg);
    el("circle", {class: "ball", cx: X(r.x), cy: Y(r.t), r: 6}, svg);
    el("circle", {class: "ball slope-point", cx: X(r.x), cy: Y(r.slope), r: 6}, svg);
    el("text", {x: X(-4) + 4, y: Y(-0.75)}, svg, "tanh(x)");
    el("text", {x: X(1.3), y: Y(0.8), class: "slope-label"}, svg, "1 − tanh(x)²");
  }

  let latest = 0;
  async function update() {
    const seq = ++latest;
    state.x = Number(input.value);
    shown.textContent = fmt(state.x, 2);
    saveFigureState(root, state);
    try {
      const r = await api("/api/figure/tanh", {x: state.x});
      if (seq !== latest) return;
      figureError(root, null);
      t.textContent = fmt(r.t);
      slope.textContent = fmt(r.slope);
      draw(r);
    } catch (err) {
      figureError(root, err);
    }
  }
  input.addEventListener("input", update);
  await update();
});
