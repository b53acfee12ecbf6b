// The derivative figure: drag the point along f(x) = x² (or use the slider); the server's scalar engine
// gives f(x) and, by backward(), its slope, drawn as the tangent.
"use strict";

registerFigure("derivative", async (root) => {
  const state = figureState(root, {x: 1});
  const W = 560, H = 300;
  const X = scale(-3, 3, 30, W - 10), Y = scale(-1, 9, H - 15, 10);
  const input = make("input", {type: "range", min: -3, max: 3, step: 0.01, value: state.x, "aria-label": "x"});
  const readout = make("b", {class: "where"}, "…");
  const svg = el("svg", {class: "draggable", role: "img",
                         "aria-label": "The parabola f(x) = x squared with a draggable point and its tangent"});
  root.append(make("div", {class: "controls"}, make("label", {}, "x ", input)), svg,
              make("p", {class: "readout", "aria-live": "polite"}, readout));
  let latest = 0, dragging = false;

  function draw(r) {
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    el("line", {class: "axis", x1: X(-3), y1: Y(0), x2: X(3), y2: Y(0)}, svg);
    el("line", {class: "axis", x1: X(0), y1: Y(-1), x2: X(0), y2: Y(9)}, svg);
    el("path", {class: "curve", d: r.curve.map((p, i) => `${i ? "L" : "M"}${X(p[0])},${Y(p[1])}`).join("")}, svg);
    const t = x => r.f + r.dfdx * (x - r.x);
    el("line", {class: "tangent", x1: X(r.x - 1.5), y1: Y(t(r.x - 1.5)), x2: X(r.x + 1.5), y2: Y(t(r.x + 1.5))}, svg);
    el("circle", {class: "handle", cx: X(r.x), cy: Y(r.f), r: 10}, svg);
    el("text", {x: X(-3) + 4, y: 22}, svg, "f(x) = x²");
  }

  async function update(x) {
    const seq = ++latest;
    state.x = Math.round(Math.max(-3, Math.min(3, x)) * 100) / 100;
    input.value = state.x;
    saveFigureState(root, state);
    try {
      const r = await api("/api/derivative", {x: state.x});
      if (seq !== latest) return;
      figureError(root, null);
      readout.textContent = `x = ${fmt(r.x, 2)}  ·  f(x) = ${fmt(r.f, 2)}  ·  f'(x) = ${fmt(r.dfdx, 2)}`;
      draw(r);
    } catch (err) {
      figureError(root, err);
    }
  }

  const pointerX = ev => {
    const box = svg.getBoundingClientRect();
    return X.invert((ev.clientX - box.left) / box.width * W);
  };
  svg.addEventListener("pointerdown", ev => { dragging = true; svg.setPointerCapture(ev.pointerId); update(pointerX(ev)); });
  svg.addEventListener("pointermove", ev => { if (dragging) update(pointerX(ev)); });
  svg.addEventListener("pointerup", () => { dragging = false; });
  input.addEventListener("input", () => update(Number(input.value)));
  await update(state.x);
});
