// Small DOM helpers shared by the panels. Text always goes in as text (never as HTML).

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
  element.append(...children.filter((child) => child !== undefined && child !== null));
  return element;
}

const statusRegion = () => document.getElementById("status");

/** Shows a message in the page's live region (read out by screen readers). */
export function announce(message, kind = "info") {
  const region = statusRegion();
  region.textContent = message;
  region.dataset.kind = kind;
}

export const announceError = (message) => announce(message, "error");

/** Integer cents as a price with two decimals (the currency is the store's). */
export function formatCents(cents) {
  return typeof cents === "number" ? (cents / 100).toFixed(2) : "";
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
  const slug = name
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return `${slug || "item"}-${randomId().replace(/-/g, "").slice(0, 6)}`;
}

/** Runs an async click/submit handler with its button disabled, reporting failures. */
export async function busy(button, work, onError) {
  if (button) button.disabled = true;
  try {
    return await work();
  } catch (error) {
    onError(error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
