// The expression-graph figure: type an expression, Forward computes every node's value (the server's scalar
// engine parses it into Values), then Backprop sends the gradients back: all at once, or one node a press.
"use strict";

registerFigure("graph", async (root, args) => {
  const state = figureState(root, {expr: args.expr || "tanh(a*b + a)", vars: "a = 2, b = -3"});
  const BW = 150, BH = 60, DX = 190, DY = 80;
  const expr = make("input", {type: "text", maxlength: 200, spellcheck: "false", "aria-label": "expression", size: 26});
  const vars = make("input", {type: "text", spellcheck: "false", "aria-label": "variables"});
  expr.value = state.expr;
  vars.value = state.vars;
  const forwardButton = make("button", {type: "button"}, "Forward");
  const backButton = make("button", {type: "button", disabled: ""}, "Backprop");
  const stepButton = make("button", {type: "button", class: "secondary", disabled: ""}, "Backprop one node");
  const caret = make("pre", {class: "caret", hidden: ""});
  const svg = el("svg", {role: "img", "aria-label": "The expression graph; each node shows its value and gradient"});
  const result = make("b", {class: "result"});
  const trace = make("ol", {class: "trace", "aria-label": "Backprop, one node at a time"});
  root.append(
    make("div", {class: "controls graph-inputs"}, make("label", {}, "expression ", expr), make("label", {}, "variables ", vars)),
    make("div", {class: "controls"}, forwardButton, backButton, stepButton),
    caret, make("div", {class: "graph-scroll"}, svg), make("p", {class: "readout", "aria-live": "polite"}, result), trace);
  let graph = null, done = 0, busy = false;

  // How a node is named in the text: its label, its operation, or "constant 2" for a number in the expression.
  const name = n => n.label || (n.op ? `(${n.op})` : `constant ${+n.data.toPrecision(6)}`);
  const gradOf = n => (n.label ? `${n.label}.grad` : `grad of ${name(n)}`);

  function parseVars(text) {
    const found = {};
    for (const part of text.split(",").filter(s => s.trim())) {
      const m = part.match(/^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(\S+)\s*$/);
      if (!m) throw new Error(`cannot read ${JSON.stringify(part.trim())}; write variables like a = 2, b = -3`);
      const value = Number(m[2]);
      if (!Number.isFinite(value)) throw new Error(`variable ${m[1]}: ${JSON.stringify(m[2])} is not a number`);
      found[m[1]] = value;
    }
    return found;
  }

  function place(nodes) {
    const depth = [];
    for (const n of nodes) depth[n.id] = n.children.length ? 1 + Math.max(...n.children.map(c => depth[c])) : 0;
    const rows = {}, at = [];
    for (const n of nodes) {
      rows[depth[n.id]] = (rows[depth[n.id]] || 0) + 1;
      at[n.id] = [20 + depth[n.id] * DX, rows[depth[n.id]] - 1];
    }
    const tallest = Math.max(...Object.values(rows));
    for (const n of nodes) at[n.id][1] = 20 + (at[n.id][1] + (tallest - rows[depth[n.id]]) / 2) * DY;
    return [at, 40 + Math.max(...depth) * DX + BW, 40 + tallest * DY];
  }

  function draw() {
    const [at, W, H] = place(graph.nodes);
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.classList.toggle("narrow", W < 600);
    svg.style.minWidth = `${Math.round(W * 0.85)}px`;  // legible on a phone: the graph scrolls sideways instead
    for (const n of graph.nodes) {
      for (const c of n.children) {
        const [x1, y1] = at[c], [x2, y2] = at[n.id];
        const sx = x1 + BW, sy = y1 + BH / 2, ex = x2, ey = y2 + BH / 2;
        const lift = ex - sx > DX ? 0.8 * DY : 0;  // an edge that skips a column arcs over the boxes in between
        el("path", {class: "edge", d: `M${sx},${sy} C${sx + 60},${sy - lift} ${ex - 60},${ey - lift} ${ex},${ey}`}, svg);
      }
    }
    for (const n of graph.nodes) {
      const [x, y] = at[n.id];
      const g = el("g", {class: "node", "data-node": n.id, "data-label": n.label}, svg);
      el("rect", {x, y, width: BW, height: BH, rx: 6}, g);
      el("text", {x: x + 8, y: y + 17}, g, n.label ? `${n.label}${n.op ? "  " + n.op : ""}` : n.op || "constant");
      el("text", {x: x + 8, y: y + 35, class: "data"}, g, "data  ?");
      el("text", {x: x + 8, y: y + 52, class: "grad"}, g, "grad  ?");
    }
  }

  function showError(err, text) {
    figureError(root, err);
    caret.hidden = err.position == null;
    if (err.position != null) caret.textContent = text + "\n" + " ".repeat(err.position) + "^";
  }

  function buttons() {
    const left = graph ? graph.backward_order.length - done : 0;
    forwardButton.disabled = busy;
    backButton.disabled = stepButton.disabled = busy || !graph || left === 0;
  }

  async function forward() {
    const text = expr.value;
    Object.assign(state, {expr: text, vars: vars.value});
    saveFigureState(root, state);
    figureError(root, null);
    caret.hidden = true;
    trace.innerHTML = "";
    result.textContent = "";
    graph = null;
    try {
      graph = await api("/api/graph", {expression: text, variables: parseVars(vars.value)});
    } catch (err) {
      svg.innerHTML = "";
      showError(err, text);
      buttons();
      return;
    }
    done = 0;
    draw();
    busy = true;
    buttons();
    for (const n of graph.nodes) {  // topological order: inputs first
      const g = svg.querySelector(`[data-node="${n.id}"]`);
      g.classList.add("lit");
      g.querySelector(".data").textContent = `data  ${fmt(n.data)}`;
      await sleep(120);
    }
    const top = graph.nodes[graph.root];
    result.textContent = `${name(top)} = ${fmt(top.data)}`;
    busy = false;
    buttons();
  }

  // Backprop's next node, in reverse topological order: it receives local × upstream from each node using it.
  function backOne() {
    const id = graph.backward_order[done++];
    const n = graph.nodes[id];
    const g = svg.querySelector(`[data-node="${id}"]`);
    g.classList.add("back");
    g.querySelector(".grad").textContent = `grad  ${fmt(n.grad)}`;
    const terms = n.terms.map(t => `(${fmt(t.local)} × ${fmt(t.upstream)})`).join(" + ");
    trace.append(make("li", {}, id === graph.root ? `${gradOf(n)} = 1 (the output with respect to itself)`
      : `${gradOf(n)} = ${terms} = ${fmt(n.grad)}`));
    if (done === graph.backward_order.length) {
      const top = graph.nodes[graph.root];
      const leaves = graph.nodes.filter(v => v.label && !v.op);
      result.textContent = [`${name(top)} = ${fmt(top.data)}`, ...leaves.map(v => `${v.label}.grad = ${fmt(v.grad)}`)]
        .join(", ");
    }
  }

  async function backprop() {
    busy = true;
    buttons();
    while (done < graph.backward_order.length) {
      backOne();
      await sleep(120);
    }
    busy = false;
    buttons();
  }

  forwardButton.addEventListener("click", forward);
  backButton.addEventListener("click", backprop);
  stepButton.addEventListener("click", () => { backOne(); buttons(); });
  for (const input of [expr, vars]) input.addEventListener("keydown", ev => { if (ev.key === "Enter") forward(); });
});
