// Chapter 14's merge table: the tokenizer's merges in the order it learned them, a page at a time, each a
// pair of tokens and the new token it makes (from gradschool.data.bpe, via /api/figure/merges).
"use strict";

registerFigure("merges", async (root, args) => {
  const count = Number(args.count || 15);
  const state = figureState(root, {vocab_size: Number(args.vocab_size || 512), start: 0});
  const controls = document.createElement("div");
  controls.className = "controls";
  const size = document.createElement("select");
  size.setAttribute("aria-label", "vocabulary size");
  for (const n of [512, 1024, 4096]) size.add(new Option(`${n} tokens`, n));
  size.value = state.vocab_size;
  const prev = Object.assign(document.createElement("button"), {type: "button", textContent: "← earlier"});
  const next = Object.assign(document.createElement("button"), {type: "button", textContent: "later →"});
  const where = document.createElement("output");
  controls.append(size, prev, next, where);
  const table = document.createElement("table");
  table.className = "merges";
  table.setAttribute("aria-label", "the merges");
  root.append(controls, table);
  const show = s => s.replace(/ /g, "␣").replace(/\n/g, "↵");

  async function update() {
    state.vocab_size = Number(size.value);
    saveFigureState(root, state);
    try {
      const r = await api("/api/figure/merges", {vocab_size: state.vocab_size, pattern: "gpt4",
                                                 start: state.start, count});
      figureError(root, null);
      const head = "<tr><th>new id</th><th>left</th><th>right</th><th>makes</th></tr>";
      table.innerHTML = head;
      for (const m of r.merges) {
        const row = table.insertRow();
        for (const text of [m.id, `${show(m.left_text)} (${m.left})`, `${show(m.right_text)} (${m.right})`,
                            show(m.text)]) {
          row.insertCell().textContent = text;
        }
      }
      where.textContent = `merges ${state.start + 1}–${state.start + r.merges.length} of ${r.total}`;
      prev.disabled = state.start === 0;
      next.disabled = state.start + count >= r.total;
    } catch (err) {
      figureError(root, err);
    }
  }
  prev.addEventListener("click", () => { state.start = Math.max(0, state.start - count); update(); });
  next.addEventListener("click", () => { state.start += count; update(); });
  size.addEventListener("change", () => { state.start = 0; update(); });
  await update();
});
