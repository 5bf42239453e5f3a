// @ts-check
// The time ranges users expect: 24 h, 7 d, 30 d, or from and to of their choosing (in their own zone).
import { h, presetRange, startOfHour, toLocalInput } from "./format.js";

/**
 * @param {import("../client").Range} initial
 * @param {(range: import("../client").Range) => void} onChange
 */
export function rangePicker(initial, onChange) {
  /** @type {HTMLButtonElement[]} */
  const buttons = [];
  const from = h("input", { type: "datetime-local", value: toLocalInput(initial.from), "aria-label": "From" });
  const to = h("input", { type: "datetime-local", value: toLocalInput(initial.to), "aria-label": "To" });
  const message = h("span", { class: "error", role: "alert" });
  const custom = h("form", { class: "toolbar", hidden: initial.key !== "custom" },
    h("label", null, "From", from), h("label", null, "To", to), h("button", { type: "submit", class: "secondary" }, "Show"), message);
  /** @param {import("../client").Range["key"]} key */
  const press = (key) => buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.range === key)));
  for (const [key, label] of /** @type {const} */ ([["24h", "24 h"], ["7d", "7 days"], ["30d", "30 days"], ["custom", "Custom"]])) {
    const button = h("button", { type: "button", "data-range": key, "aria-pressed": String(key === initial.key) }, label);
    button.addEventListener("click", () => {
      press(key);
      custom.hidden = key !== "custom";
      if (key === "custom") from.focus();
      else onChange(presetRange(key));
    });
    buttons.push(button);
  }
  custom.addEventListener("submit", (event) => {
    event.preventDefault();
    // Whole hours, as energy is counted: "from" back to its hour's start, "to" on to the next.
    const end = new Date(to.value).getTime();
    const range = { key: /** @type {const} */ ("custom"), from: new Date(startOfHour(new Date(from.value))),
      to: new Date(startOfHour(end) === end ? end : startOfHour(end) + 3_600_000) };
    if (Number.isNaN(range.from.getTime()) || Number.isNaN(range.to.getTime())) message.textContent = "Enter both times.";
    else if (range.from >= range.to) message.textContent = "“From” must be before “To”.";
    else {
      message.textContent = "";
      onChange(range);
    }
  });
  return h("div", { class: "range" }, h("div", { class: "ranges", role: "group", "aria-label": "Time range" }, ...buttons), custom);
}
