// The two-moons figure: an MLP learns to separate two interleaved half-moons on the server (gradschool.web.
// training's MoonsJob, the scalar engine); its score over the plane is drawn as a colour field under the points.
"use strict";

registerFigure("moons", async (root, args) => {
  const state = figureState(root, {hidden: args.hidden || "8,8", activation: "relu", lr: 0.1, batch: 20,
                                   noise: 0.1, seed: 1});
  const number = (key, label, attrs) => make("input", {type: "number", ...attrs, value: state[key], "aria-label": label});
  const hidden = make("input", {type: "text", size: 7, value: state.hidden, "aria-label": "hidden layers"});
  const activation = make("select", {"aria-label": "activation"});
  for (const a of ["relu", "tanh"]) activation.add(new Option(a, a));
  activation.value = state.activation;
  const batch = number("batch", "batch size", {min: 1, max: 100, step: 1});
  const noise = number("noise", "noise", {min: 0, max: 0.5, step: 0.05});
  const seed = number("seed", "seed", {min: 0, step: 1});
  const ui = {
    lr: number("lr", "learning rate", {step: "any"}),
    step: make("button", {type: "button"}, "Step"),
    play: make("button", {type: "button"}, "Play"),
    pause: make("button", {type: "button", class: "secondary"}, "Pause"),
    reset: make("button", {type: "button", class: "secondary"}, "Reset"),
    steps: make("b", {class: "steps"}, "0"),
    loss: make("b", {class: "loss"}, "—"),
    status: make("p", {class: "status", role: "status"}),
    chart: el("svg", {class: "chart", role: "img", "aria-label": "Loss per step"}),
  };
  const accuracy = make("b", {class: "accuracy"}, "—");
  const canvas = make("canvas", {width: 300, height: 300, role: "img",
                                 "aria-label": "Decision boundary: the model's score over the plane, with the data points"});
  root.append(
    make("div", {class: "controls"}, make("label", {}, "hidden layers ", hidden),
         make("span", {class: "legend"}, "sizes, e.g. 8,8 (1–3 layers of 1–16)"),
         make("label", {}, "activation ", activation)),
    make("div", {class: "controls"}, make("label", {}, "learning rate ", ui.lr), make("label", {}, "batch size ", batch),
         make("label", {}, "noise ", noise), make("label", {}, "seed ", seed)),
    make("div", {class: "controls"}, ui.step, ui.play, ui.pause, ui.reset),
    make("p", {class: "readout", "aria-live": "polite"}, "step ", ui.steps, " · loss ", ui.loss, " · accuracy ", accuracy),
    ui.status,
    make("div", {class: "twocol"}, canvas, ui.chart));
  lossChart(ui.chart, []);
  let data = null;

  function drawMap(grid) {
    const ctx = canvas.getContext("2d"), n = grid.length;
    const css = getComputedStyle(root);
    const small = document.createElement("canvas");
    small.width = small.height = n;
    const img = small.getContext("2d").createImageData(n, n);
    // The page's own colours (light or dark): the background where the score is 0, blue and orange by its sign.
    const rgb = (name, fallback) => {
      const m = css.getPropertyValue(name).trim().match(/^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i);
      return m ? m.slice(1).map(h => parseInt(h, 16)) : fallback;
    };
    const bg = rgb("--bg", [255, 255, 255]), pos = rgb("--pos", [31, 111, 209]), neg = rgb("--neg", [217, 72, 15]);
    grid.forEach((row, j) => row.forEach((s, i) => {
      const a = Math.tanh(Math.abs(s)) * 0.6, k = 4 * (j * n + i), c = s > 0 ? pos : neg;
      img.data.set([0, 1, 2].map(q => bg[q] + (c[q] - bg[q]) * a).concat(255), k);
    }));
    small.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
    const [x0lo, x0hi, x1lo, x1hi] = data.bounds;
    const X = scale(x0lo, x0hi, 0, canvas.width), Y = scale(x1hi, x1lo, 0, canvas.height);
    data.points.forEach(([a, b], i) => {
      ctx.beginPath();
      ctx.arc(X(a), Y(b), 4, 0, 2 * Math.PI);
      ctx.fillStyle = css.getPropertyValue(data.labels[i] > 0 ? "--pos" : "--neg").trim() || "#888";
      ctx.strokeStyle = "#fff";
      ctx.fill();
      ctx.stroke();
    });
  }

  new Trainer(ui, () => {
    const sizes = hidden.value.split(",").map(s => Number(s.trim()));
    if (!sizes.every(h => Number.isInteger(h) && h > 0)) {
      throw new Error("Write the hidden layer sizes as whole numbers separated by commas, e.g. 8,8.");
    }
    Object.assign(state, {hidden: sizes.join(","), activation: activation.value, lr: Number(ui.lr.value),
                          batch: Number(batch.value), noise: Number(noise.value), seed: Number(seed.value)});
    saveFigureState(root, state);
    return {task: "moons", hidden: sizes, activation: state.activation, lr: state.lr, batch_size: state.batch,
            noise: state.noise, seed: state.seed};
  }, m => {
    data = m;
    accuracy.textContent = "—";
    drawMap(m.grid);
  }, m => {
    accuracy.textContent = `${Math.round(m.accuracy * 100)}%`;
    if (m.grid) drawMap(m.grid);
  });
  for (const control of [hidden, activation, batch, noise, seed]) {
    control.addEventListener("change", () => ui.reset.click());
  }
  ui.lr.addEventListener("change", () => {
    state.lr = Number(ui.lr.value);
    saveFigureState(root, state);
  });
});
