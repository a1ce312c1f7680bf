// The chat page's own behaviour, loaded once in <head> (ui.app.launch). Gradio's sanitizer strips event
// attributes from chat messages, so every handler here is delegated from the document and finds its target by
// class: `.cite-ref` ([n] in an answer), `.copy-answer`, `.show-sources`, and the theme button.
(() => {
  "use strict";
  const THEME_KEY = "news-assistant-theme";
  const FLASH_MS = 2500;

  function applyTheme(mode) {
    if (mode === "dark") document.body.classList.add("dark");
    if (mode === "light") document.body.classList.remove("dark");
  }

  function toggleTheme() {
    const mode = document.body.classList.contains("dark") ? "light" : "dark";
    localStorage.setItem(THEME_KEY, mode);
    applyTheme(mode);
    return mode;
  }

  // Gradio sets its own theme (system preference, or ?__theme=) when the app mounts: apply a stored choice after it.
  function applyStoredTheme(triesLeft) {
    const stored = localStorage.getItem(THEME_KEY);
    if (!stored) return;
    if (document.querySelector(".gradio-container") || triesLeft <= 0) {
      applyTheme(stored);
      return;
    }
    setTimeout(() => applyStoredTheme(triesLeft - 1), 100);
  }

  function messageKey(element) {
    const answer = element.closest(".answer");
    const key = answer && Array.from(answer.classList).find((c) => /^msg-\d+$/.test(c));
    return key || null;
  }

  function waitFor(find, timeoutMs) {
    return new Promise((resolve) => {
      const started = Date.now();
      const poll = () => {
        const found = find();
        if (found || Date.now() - started > timeoutMs) resolve(found || null);
        else setTimeout(poll, 50);
      };
      poll();
    });
  }

  // Show passage n of the answer `key` in the Sources panel: scroll to it and flash it and its quote. Clicking in
  // an answer also selects it (Gradio's select event puts that answer's sources in the panel), so wait for them.
  async function flash(key, n) {
    const panel = await waitFor(() => document.querySelector(`#sources .sources-of.${key}`), 8000);
    if (!panel) return false;
    const source = panel.querySelector(`.source.cite-${n}`);
    if (!source) return false;
    source.scrollIntoView({ block: "center", behavior: "smooth" });
    const marks = Array.from(source.querySelectorAll(`mark.cite-${n}`));
    for (const element of [source, ...marks]) {
      element.classList.remove("flash");
      void element.offsetWidth; // restart the animation when clicked again
      element.classList.add("flash");
      setTimeout(() => element.classList.remove("flash"), FLASH_MS);
    }
    return true;
  }

  async function copyText(value) {
    try {
      await navigator.clipboard.writeText(value);
    } catch (error) {
      const area = document.createElement("textarea");
      area.value = value;
      area.style.position = "fixed";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
  }

  function plainTextNear(button) {
    for (let node = button.parentElement; node && node !== document.body; node = node.parentElement) {
      const plain = node.querySelector(".answer-plain");
      if (plain) return plain.textContent;
    }
    return null;
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const ref = target.closest("#chat .cite-ref");
    if (ref) {
      const key = messageKey(ref);
      const n = parseInt(ref.textContent.replace(/\D/g, ""), 10);
      if (key && n) flash(key, n);
      return;
    }
    const copy = target.closest("#chat .copy-answer");
    if (copy) {
      const value = plainTextNear(copy);
      if (value !== null) {
        copyText(value).then(() => {
          copy.classList.add("copied");
          setTimeout(() => copy.classList.remove("copied"), 1500);
        });
      }
      return;
    }
    if (target.closest("#theme-toggle")) toggleTheme();
  });

  // The "sources" link is a span with role=button: Enter or Space activates it like a click.
  document.addEventListener("keydown", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.matches("#chat [role=button]") && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      target.click();
    }
  });

  window.newsAssistant = { toggleTheme, flash };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => applyStoredTheme(100));
  else applyStoredTheme(100);
})();
