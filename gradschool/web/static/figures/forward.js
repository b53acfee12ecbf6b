// The forward-pass figure: a 2→3→1 network with seeded random weights; Run lights each layer in turn with
// the values the server's scalar engine computed (MLP from gradschool.scalar.nn).
"use strict";

registerFigure("forward", async (root, args) => {
  const state = figureState(root, {x1: Number(args.x1 ?? 1), x2: Number(args.x2 ?? -2), seed: Number(args.seed ?? 42)});
  const SIZES = [2, 3, 1], W = 560, H = 280;
  const pos = (l, i) => [80 + l * 200, H / 2 + (i - (SIZES[l] - 1) / 2) * 90];
  const field = (key, label, attrs) => make("input", {type: "number", ...attrs, value: state[key], "aria-label": label});
  const x1 = field("x1", "x1", {min: -10, max: 10, step: 0.1});
  const x2 = field("x2", "x2", {min: -10, max: 10, step: 0.1});
  const seed = field("seed", "seed", {min: 0, step: 1});
  const run = make("button", {type: "button"}, "Run forward pass");
  const prediction = make("b", {class: "prediction"}, "—");
  const svg = el("svg", {role: "img", "aria-label": "A 2-3-1 network; each node shows its value once computed"});
  root.append(
    make("div", {class: "controls"}, make("label", {}, "x₁ ", x1), make("label", {}, "x₂ ", x2),
         make("label", {}, "seed ", seed), run),
    svg,
    make("p", {class: "readout", "aria-live": "polite"}, "prediction ", prediction),
    make("p", {class: "legend"}, "Edge colour is the weight's sign (", make("span", {class: "pos"}, "blue +"), ", ",
         make("span", {class: "neg"}, "orange −"), "), its width the weight's size."));

  function draw(net) {
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    for (let l = 1; l < SIZES.length; l++) {
      for (let j = 0; j < SIZES[l]; j++) {
        for (let i = 0; i < SIZES[l - 1]; i++) {
          const [xa, ya] = pos(l - 1, i), [xb, yb] = pos(l, j);
          const w = net ? net.weights[l - 1][j][i] : 0;
          el("line", {class: net ? `edge ${w >= 0 ? "pos" : "neg"}` : "edge", x1: xa, y1: ya, x2: xb, y2: yb,
                      "stroke-width": 1 + 3 * Math.min(1, Math.abs(w))}, svg);
        }
      }
    }
    SIZES.forEach((n, l) => {
      for (let i = 0; i < n; i++) {
        const [cx, cy] = pos(l, i);
        const g = el("g", {class: "node", "data-node": `${l}-${i}`}, svg);
        el("circle", {cx, cy, r: 32}, g);
        el("text", {x: cx, y: cy + 5, "text-anchor": "middle", class: "value"}, g, "?");
        const name = l === 0 ? `x${i + 1}` : l === SIZES.length - 1 ? "out" : `h${i + 1}`;
        el("text", {x: cx, y: cy - 40, "text-anchor": "middle"}, g, name);
      }
    });
  }

  async function forward() {
    Object.assign(state, {x1: Number(x1.value), x2: Number(x2.value), seed: Number(seed.value)});
    saveFigureState(root, state);
    let net;
    try {
      net = await api("/api/forward", {x: [state.x1, state.x2], seed: state.seed});
      figureError(root, null);
    } catch (err) {
      figureError(root, err);
      return;
    }
    run.disabled = true;
    draw(net);
    prediction.textContent = "—";
    for (let l = 0; l < net.layers.length; l++) {
      net.layers[l].forEach((v, i) => {
        const g = svg.querySelector(`[data-node="${l}-${i}"]`);
        g.classList.add("lit");
        g.querySelector(".value").textContent = fmt(v, 3);
      });
      await sleep(350);
    }
    prediction.textContent = fmt(net.layers[net.layers.length - 1][0]);
    run.disabled = false;
  }
  run.addEventListener("click", forward);
  draw(null);
});
