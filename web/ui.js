// Small DOM helpers shared by the screens: elements, prices, the feedback each form shows beside
// itself, busy buttons, and the confirmation dialog. Text always goes in as text (never as HTML).

/** The store's one currency: prices are integer cents of it. */
export const CURRENCY = "USD";
/** Cents per unit of CURRENCY (the forms take a decimal price and send integer cents). */
export const CENTS = 100;

const priceFormat = new Intl.NumberFormat(undefined, { style: "currency", currency: CURRENCY });

/** Creates an element with attributes (`on*` functions become listeners) and children. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  element.append(...children.filter((child) => child !== undefined && child !== null && child !== false));
  return element;
}

/** Integer cents as a price in the store's currency ("$12.50"). */
export function formatPrice(cents) {
  return typeof cents === "number" ? priceFormat.format(cents / CENTS) : "";
}

/** A decimal price as typed ("12.5") -> integer cents (1250); null when it is not a number. */
export function centsFrom(text) {
  if (!/^\s*\d+(\.\d*)?\s*$|^\s*\.\d+\s*$/.test(text)) return null;
  return Math.round(Number(text) * CENTS);
}

export function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? "") : date.toLocaleString();
}

/** A random UUID (crypto.randomUUID needs a secure context; 127.0.0.1 and HTTPS are). */
export function randomId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** An id the API accepts (letters, digits, - and _), made from a name plus a random suffix. */
export function idFromName(name) {
  const slug = String(name ?? "")
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return `${slug || "item"}-${randomId().replace(/-/g, "").slice(0, 6)}`;
}

/** The page-wide polite status (sign-out and the like; forms have their own). */
export function announce(message) {
  document.getElementById("page-status").textContent = message;
}

// ---------------------------------------------------------------------- field messages
/** What to tell people about a field, by the API's field name (`body.<name>` in its errors). */
export const FIELD_MESSAGES = {
  id: "Use letters, digits, - and _ (up to 64), starting with a letter or digit, or leave it empty.",
  name: "Enter a name of up to 100 characters.",
  species: "Enter a species of up to 40 characters, like dog or cat.",
  breed: "Keep the breed to 60 characters or fewer.",
  ageMonths: "Enter the age in whole months, from 0 to 600.",
  priceCents: "Enter a price, like 12.50.",
  weightGrams: "Enter the weight in whole grams, from 1 to 1,000,000.",
  displayName: "Enter a name of 1 to 40 characters, on one line.",
  message: "Write a comment of up to 2,000 characters.",
  pageId: "This pet cannot take comments.",
  file: "Choose a JPEG, PNG or WebP image.",
  email: "Enter an email address, like ada@example.com.",
  password: "Use at least 8 characters, with upper case, lower case and a digit.",
  code: "Enter the code from the email (digits only).",
};

/** The API's field ("body.priceCents", "path.petId") -> the form's name for it. */
export function fieldKey(apiField) {
  const name = String(apiField ?? "").split(".")[1] ?? "";
  return /^(petId|foodId)$/.test(name) ? "id" : name;
}

const keyOf = (input) => input.dataset.field || input.name;

// ---------------------------------------------------------------------- form feedback
/**
 * The result of one form, shown beside it: a polite status for progress and success, an alert
 * for errors, and each invalid field marked (aria-invalid, aria-describedby -> its message).
 * The browser's own constraint checks (required, min, max, pattern...) mark fields the same way.
 */
export class FormFeedback {
  constructor(root) {
    this.root = root;
    this.errorBox = root.querySelector("[data-error]");
    this.okBox = root.querySelector("[data-ok]");
    if (root instanceof HTMLFormElement) {
      root.addEventListener("invalid", (event) => this.markInvalid(event.target), true);
      root.addEventListener("input", (event) => this.unmark(event.target));
    }
  }

  fields() {
    return this.root instanceof HTMLFormElement ? [...this.root.elements].filter((input) => input.name) : [];
  }

  clear() {
    this.errorBox.textContent = "";
    this.okBox.textContent = "";
    for (const input of this.fields()) this.unmark(input);
  }

  progress(message) {
    this.errorBox.textContent = "";
    this.okBox.textContent = message;
  }

  ok(message) {
    this.errorBox.textContent = "";
    this.okBox.textContent = message;
  }

  error(message) {
    this.okBox.textContent = "";
    this.errorBox.textContent = message;
  }

  /** Marks a field invalid with the words for it (FIELD_MESSAGES) or the given ones. */
  markInvalid(input, message = FIELD_MESSAGES[keyOf(input)] ?? input.validationMessage) {
    const id = `${input.id || input.name}-error`;
    let note = document.getElementById(id);
    if (!note) {
      note = el("p", { class: "field-error", id });
      input.insertAdjacentElement("afterend", note);
    }
    note.textContent = message;
    note.hidden = false;
    input.setAttribute("aria-invalid", "true");
    const described = (input.getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean);
    if (!described.includes(id)) input.setAttribute("aria-describedby", [id, ...described].join(" "));
  }

  unmark(input) {
    if (!input?.hasAttribute?.("aria-invalid")) return;
    const id = `${input.id || input.name}-error`;
    input.removeAttribute("aria-invalid");
    const rest = (input.getAttribute("aria-describedby") ?? "").split(/\s+/).filter((name) => name && name !== id);
    if (rest.length) input.setAttribute("aria-describedby", rest.join(" "));
    else input.removeAttribute("aria-describedby");
    const note = document.getElementById(id);
    if (note) note.hidden = true;
  }

  /** Marks the fields an API error names; returns how many it could mark. */
  markApiFields(error) {
    let marked = 0;
    for (const problem of error?.fields ?? []) {
      const key = fieldKey(problem.field);
      const input = this.fields().find((candidate) => keyOf(candidate) === key);
      if (!input) continue;
      this.markInvalid(input, FIELD_MESSAGES[key] ?? problem.problem);
      if (marked === 0) input.focus();
      marked += 1;
    }
    return marked;
  }

  /** An API error: the fields it names marked, and a message that says what to do. */
  apiError(error, describe) {
    const marked = this.markApiFields(error);
    this.error(marked ? `Check the ${marked === 1 ? "marked field" : `${marked} marked fields`}.` : describe(error));
  }
}

// ---------------------------------------------------------------------- busy buttons
/**
 * Runs the work of a button: disabled meanwhile (it cannot be pressed twice), with a progress
 * mark, its form aria-busy. Returns the work's result; errors go to the caller.
 */
export async function busy(button, work) {
  if (!button || button.disabled) return undefined;
  button.disabled = true;
  button.classList.add("busy");
  const form = button.form ?? button.closest("dialog");
  form?.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.classList.remove("busy");
    form?.removeAttribute("aria-busy");
  }
}

// ---------------------------------------------------------------------- confirmation dialog
/**
 * Asks before something that cannot be undone, in the page's <dialog>. `run` does it: when it
 * throws, the dialog stays open with the message (and whatever `run` changed, e.g. a new
 * version to confirm). Resolves to true once done, false when cancelled.
 */
export function confirmAction({ title, text, confirmLabel = "Delete", run, describe }) {
  const dialog = document.getElementById("confirm-dialog");
  const feedback = new FormFeedback(dialog);
  const confirm = dialog.querySelector('[data-action="confirm"]');
  const cancel = dialog.querySelector('[data-action="cancel"]');
  dialog.querySelector("#confirm-dialog-title").textContent = title;
  dialog.querySelector("#confirm-dialog-text").textContent = text;
  confirm.textContent = confirmLabel;
  feedback.clear();
  return new Promise((resolve) => {
    const finish = (done) => {
      confirm.removeEventListener("click", onConfirm);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      resolve(done);
    };
    const onConfirm = () =>
      busy(confirm, async () => {
        try {
          feedback.progress("Working…");
          await run({ ask: (message) => (dialog.querySelector("#confirm-dialog-text").textContent = message) });
          finish(true);
        } catch (error) {
          feedback.error(describe ? describe(error) : error.message);
        }
      });
    const onCancel = (event) => {
      event?.preventDefault?.();
      if (!confirm.disabled) finish(false);
    };
    confirm.addEventListener("click", onConfirm);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    cancel.focus();
  });
}
