// @ts-check
// The console's entry: sign-in, sign-out, and the page each path names (/, /plugs/{devEui}, /export),
// drawn into <main> without reloading.
import { api, ApiFailure, SIGNED_OUT } from "./api.js";
import { exportPage } from "./export.js";
import { fleetPage } from "./fleet.js";
import { h } from "./format.js";
import { plugPage } from "./plug.js";

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));

/** Each drawing of a page gets a new signal, so a slow answer for a page left behind is dropped. */
let current = new AbortController();

/** @param {string} title @param {...Node} content */
function show(title, ...content) {
  document.title = `${title} · 16ASPM console`;
  main.replaceChildren(...content);
}

async function route() {
  current.abort();
  current = new AbortController();
  const signal = current.signal;
  const path = location.pathname;
  const plug = path.match(/^\/plugs\/([0-9a-fA-F]{16})$/);
  try {
    const { signedIn } = await api("/session").then((/** @type {{ signedIn: boolean }} */ s) => s);
    nav.hidden = !signedIn;
    for (const link of nav.querySelectorAll("a")) {
      if (link.pathname === (path === "/fleet" ? "/" : path)) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (!signedIn) return signInPage();
    if (path === "/" || path === "/fleet") await fleetPage(main, show, signal);
    else if (plug) await plugPage(main, show, plug[1].toLowerCase(), signal);
    else if (path === "/export") await exportPage(main, show, signal);
    else show("Not found", h("h1", null, "Nothing here"), h("p", null, "This page does not exist. ", h("a", { href: "/", "data-link": true }, "Go to the fleet.")));
  } catch (error) {
    if (signal.aborted) return;
    show("Error", h("h1", null, "Something went wrong"), h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : String(error)));
  }
}

function signInPage() {
  const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "current-password", required: true, spellcheck: "false" });
  const message = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { method: "post", action: "/session" },
    h("label", { for: "token" }, "Api token", input),
    h("p", { class: "hint" }, "The token from API_TOKENS, or the one the service printed at start-up (kept in DATA_DIR/api-token). It stays on the server; this browser keeps only a session cookie."),
    button, message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    message.textContent = "";
    try {
      await api("/session", { method: "POST", body: { token: input.value } });
      input.value = "";
      await route();
    } catch (error) {
      message.textContent = error instanceof ApiFailure ? error.message : String(error);
      button.disabled = false;
      input.focus();
    }
  });
  show("Sign in", h("section", { class: "sign-in" }, h("h1", null, "Sign in"), form));
  input.focus();
}

/** Follows a console link without reloading the page. @param {string} href */
export function navigate(href) {
  history.pushState(null, "", href);
  void route().then(() => main.focus({ preventScroll: false }));
}

document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[data-link]") : null;
  if (!(link instanceof HTMLAnchorElement) || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
});
window.addEventListener("popstate", () => void route());
window.addEventListener(SIGNED_OUT, () => void route());
/** @type {HTMLButtonElement} */ (document.getElementById("sign-out")).addEventListener("click", async () => {
  await api("/session", { method: "DELETE" }).catch(() => {});
  history.pushState(null, "", "/");
  await route();
});

void route();
