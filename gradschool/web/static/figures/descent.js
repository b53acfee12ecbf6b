// The loss-landscape figure: gradient descent on loss(w) = (w − 2)², one Step at a time; the server's scalar
// engine gives each step's slope. A learning rate above 1 overshoots, and past a point runs off the chart.
"use strict";

registerFigure("descent", async (root, args) => {
  const START = Number(args.w ?? 3);
  const state = figureState(root, {w: START, lr: Number(args.lr ?? 0.1)});
  const lr = make("input", {type: "range", min: 0.01, max: 1.2, step: 0.01, value: state.lr, "aria-label": "learning rate"});
  const lrShown = make("output", {}, fmt(state.lr, 2));
  const step = make("button", {type: "button"}, "Step");
  const reset = make("button", {type: "button", class: "secondary"}, "Reset");
  const readout = make("b", {class: "where"}, "…");
  const update = make("p", {class: "legend update"});
  const status = make("p", {class: "status", role: "status"});
  const svg = el("svg", {role: "img", "aria-label": "The loss curve with a ball at the current weight"});
  root.append(make("div", {class: "controls"}, make("label", {}, "learning rate ", lr, " ", lrShown), step, reset),
              svg, make("p", {class: "readout", "aria-live": "polite"}, readout), update, status);

  function draw(r) {
    const W = 560, H = 260;
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
    status.textContent = text;
    status.className = bad ? "status bad" : "status good";
  }

  async function show(stepping) {
    try {
      let r = await api("/api/descent", {w: state.w, lr: state.lr});
      if (stepping) {
        update.textContent = `w ← ${fmt(r.w, 3)} − ${fmt(state.lr, 2)} × ${fmt(r.grad, 3)} = ${fmt(r.new_w, 3)}`;
        if (Math.abs(r.new_w) > 1000) {  // the API's own limit on w
          say("Diverged: w left the chart. The learning rate is too high; press Reset.", true);
          step.disabled = true;
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
      saveFigureState(root, state);
      readout.textContent = `w = ${fmt(r.w, 2)} · loss = ${fmt(r.loss, 2)}`;
      draw(r);
    } catch (err) {
      say(err.message + " Press Reset.", true);
    }
  }

  lr.addEventListener("input", () => {
    state.lr = Number(lr.value);
    lrShown.textContent = fmt(state.lr, 2);
    saveFigureState(root, state);
  });
  step.addEventListener("click", () => show(true));
  reset.addEventListener("click", () => {
    state.w = START;
    step.disabled = false;
    status.textContent = update.textContent = "";
    show(false);
  });
  await show(false);
});
