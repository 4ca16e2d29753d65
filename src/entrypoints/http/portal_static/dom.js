// Small DOM helpers: elements built from data (text is never parsed as HTML), forms whose
// errors go next to their fields, dialogs.

export const $ = (id) => document.getElementById(id);

// h("button", {type: "button", onclick: f}, "Delete"): an element; "on*" attributes are
// listeners, "dataset" sets data-*, other attributes are set as given (false/null: left out).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

// The form's error paragraphs (data-field="name") emptied, their fields valid again.
export function clearErrors(form) {
  for (const paragraph of form.querySelectorAll(".error[data-field]")) paragraph.textContent = "";
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
}

// Each field's messages next to it (fields the form has no place for: with the form's
// own), and the focus on the first field in error.
export function showErrors(form, fields) {
  clearErrors(form);
  const general = form.querySelector('.error[data-field="non_field_errors"]');
  let first = null;
  for (const [name, messages] of Object.entries(fields)) {
    const paragraph = form.querySelector(`.error[data-field="${CSS.escape(name)}"]`) || general;
    if (!paragraph) continue;
    paragraph.textContent = [paragraph.textContent, ...messages].filter(Boolean).join(" ");
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
  }
  if (first) first.focus();
}

export function openDialog(dialog) {
  const form = dialog.querySelector("form");
  if (form) clearErrors(form);
  dialog.showModal();
}

// Every [data-close] button closes its dialog.
export function wireDialogs() {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
}

// A page of a list: "21–40 of 120", and the pager's buttons.
export function showPage(label, caption, pager, { offset, limit, count, what }) {
  const first = count === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, count);
  caption.textContent = count === 0 ? `No ${what}.` : `${what[0].toUpperCase()}${what.slice(1)} ${first}–${last} of ${count}`;
  const pages = Math.max(1, Math.ceil(count / limit));
  label.textContent = `Page ${Math.floor(offset / limit) + 1} of ${pages}`;
  pager.querySelector('[data-page="previous"]').disabled = offset === 0;
  pager.querySelector('[data-page="next"]').disabled = offset + limit >= count;
}
