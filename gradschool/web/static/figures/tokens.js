// Chapter 14's tokens figure: type a text, pick a tokenizer; the server's BPE (gradschool.data.bpe) cuts it
// into tokens, each shown in its own colour with its id beneath, and counts characters, bytes and tokens.
"use strict";

registerFigure("tokens", async (root, args) => {
  const state = figureState(root, {text: args.text || "To be, or not to be: that is the question.",
                                   vocab_size: Number(args.vocab_size || 512), pattern: args.pattern || "gpt4"});
  const controls = document.createElement("div");
  controls.className = "controls";
  const input = Object.assign(document.createElement("textarea"), {rows: 2, maxLength: 500, value: state.text});
  input.className = "token-input";
  input.setAttribute("aria-label", "text to cut into tokens");
  const size = document.createElement("select");
  size.setAttribute("aria-label", "vocabulary size");
  for (const n of [256, 512, 1024, 4096]) size.add(new Option(`${n} tokens`, n));
  size.value = state.vocab_size;
  const pattern = document.createElement("select");
  pattern.setAttribute("aria-label", "split pattern");
  pattern.add(new Option("GPT-4's split pattern", "gpt4"));
  pattern.add(new Option("GPT-2's split pattern", "gpt2"));
  pattern.value = state.pattern;
  controls.append(input, size, pattern);
  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  const strip = document.createElement("div");
  strip.className = "token-strip";
  strip.setAttribute("role", "list");
  strip.setAttribute("aria-label", "the tokens");
  root.append(controls, readout, strip);

  let pending = 0;
  async function update() {
    Object.assign(state, {text: input.value, vocab_size: Number(size.value), pattern: pattern.value});
    saveFigureState(root, state);
    const mine = ++pending;
    try {
      const r = await api("/api/figure/tokens", {text: state.text, vocab_size: state.vocab_size,
                                                 pattern: state.pattern});
      if (mine !== pending) return;  // a newer request is on its way
      figureError(root, null);
      strip.replaceChildren(...r.tokens.map((t, i) => {
        const cell = document.createElement("span");
        cell.className = `token c${i % 6}`;
        cell.setAttribute("role", "listitem");
        cell.title = `token ${t.id}: bytes ${t.bytes.join(" ")}`;
        const text = document.createElement("span");
        text.className = "text";
        text.textContent = t.text.replace(/ /g, "␣").replace(/\n/g, "↵");
        const id = document.createElement("span");
        id.className = "id";
        id.textContent = t.id;
        cell.append(text, id);
        return cell;
      }));
      const per = r.tokens.length ? (r.characters / r.tokens.length).toFixed(2) : "–";
      readout.textContent = `${r.characters} characters, ${r.bytes} bytes, ${r.tokens.length} tokens ` +
        `(${per} characters per token); decoding gives the text back: ${r.round_trip ? "yes" : "no"}`;
    } catch (err) {
      figureError(root, err);
    }
  }
  input.addEventListener("input", update);
  size.addEventListener("change", update);
  pattern.addEventListener("change", update);
  await update();
});
