// The training-loop figure: MLP(4, [3, 1]) learns the four examples on the server (gradschool.web.training's
// TinyJob, the scalar engine), one Step at a time or playing; the loss per step and the predictions stream in.
"use strict";

registerFigure("training", async (root, args) => {
  const XS = [[2, 3, -1, 1], [3, -1, 0.5, 1], [0.5, 1, 1, 1], [1, 1, -1, 1]], YS = [1, -1, -1, 1];
  const state = figureState(root, {lr: Number(args.lr ?? 0.01), seed: Number(args.seed ?? 1337)});
  const ui = {
    lr: make("input", {type: "number", step: "any", value: state.lr, "aria-label": "learning rate"}),
    seed: make("input", {type: "number", min: 0, step: 1, value: state.seed, "aria-label": "seed"}),
    step: make("button", {type: "button"}, "Step"),
    play: make("button", {type: "button"}, "Play"),
    pause: make("button", {type: "button", class: "secondary"}, "Pause"),
    reset: make("button", {type: "button", class: "secondary"}, "Reset"),
    steps: make("b", {class: "steps"}, "0"),
    loss: make("b", {class: "loss"}, "—"),
    status: make("p", {class: "status", role: "status"}),
    chart: el("svg", {class: "chart", role: "img", "aria-label": "Loss per step"}),
  };
  const predictions = XS.map(() => make("td", {class: "num"}, "—"));
  const rows = XS.map((x, i) => make("tr", {}, make("td", {}, `[${x.join(", ")}]`), make("td", {}, String(YS[i])),
                                     predictions[i]));
  const table = make("table", {"aria-label": "Predictions and targets"},
                     make("thead", {}, make("tr", {}, make("th", {}, "inputs"), make("th", {}, "target"),
                                                 make("th", {}, "prediction"))),
                     make("tbody", {}, ...rows));
  root.append(
    make("div", {class: "controls"}, make("label", {}, "learning rate ", ui.lr), make("label", {}, "seed ", ui.seed)),
    make("div", {class: "controls"}, ui.step, ui.play, ui.pause, ui.reset),
    make("p", {class: "readout", "aria-live": "polite"}, "step ", ui.steps, " · loss ", ui.loss),
    ui.status,
    make("div", {class: "twocol"}, ui.chart, table));
  lossChart(ui.chart, []);

  new Trainer(ui, () => {
    Object.assign(state, {lr: Number(ui.lr.value), seed: Number(ui.seed.value)});
    saveFigureState(root, state);
    return {task: "tiny", lr: state.lr, seed: state.seed};
  }, () => {
    for (const td of predictions) td.textContent = "—";
  }, m => m.predictions.forEach((p, i) => { predictions[i].textContent = fmt(p); }));
  ui.lr.addEventListener("change", () => {
    state.lr = Number(ui.lr.value);
    saveFigureState(root, state);
  });
  ui.seed.addEventListener("change", () => ui.reset.click());
});
