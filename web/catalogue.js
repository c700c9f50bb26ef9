// One catalogue panel (pets or foods): a paged table, and a form that creates or edits an item.
// Edits send If-Match with the version that was shown, so a stale edit is refused with a 412.

import { describeError } from "./api.js";
import { announce, announceError, busy, el, formatCents, idFromName } from "./ui.js";

/** Fields the server manages: shown, never sent. */
const SERVER_FIELDS = new Set(["id", "version", "createdAt", "updatedAt"]);

export class Catalogue {
  /**
   * @param {object} options
   * @param {HTMLElement} options.root the panel's <section>
   * @param {import("./api.js").StoreApi} options.api
   * @param {string} options.noun "pet" or "food"
   * @param {string} options.path "/pets" or "/foods"
   * @param {Array<[string, (item: object) => string]>} options.columns cells after which come the actions
   * @param {(item: object) => HTMLElement[]} [options.extraActions] more buttons per row
   */
  constructor({ root, api, noun, path, columns, extraActions = () => [] }) {
    Object.assign(this, { root, api, noun, path, columns, extraActions });
    this.form = root.querySelector("form.item-form");
    this.body = root.querySelector("tbody");
    this.shape = root.querySelector(".shape");
    this.nextButton = root.querySelector('[data-action="next"]');
    this.pageSize = root.querySelector('select[name="pageSize"]');
    this.editing = null;
    this.nextToken = null;
    this.wire();
  }

  wire() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(event.submitter, () => this.save(), (error) => announceError(describeError(error)));
    });
    this.root.querySelector('[data-action="cancel"]').addEventListener("click", () => this.resetForm());
    this.root.querySelector('[data-action="first"]').addEventListener("click", () => this.load());
    this.nextButton.addEventListener("click", () => this.load(this.nextToken));
    this.pageSize.addEventListener("change", () => this.load());
  }

  /** Loads a page (the first one without a token) and renders it. */
  async load(nextToken = null) {
    try {
      const page = await this.api.list(this.path, { limit: Number(this.pageSize.value), nextToken });
      this.nextToken = page.nextToken;
      this.render(page);
    } catch (error) {
      announceError(`Could not list ${this.noun}s: ${describeError(error)}`);
    }
  }

  render(page) {
    this.body.replaceChildren(...page.items.map((item) => this.row(item)));
    if (page.items.length === 0) {
      this.body.append(el("tr", {}, el("td", { colspan: this.columns.length + 1 }, `No ${this.noun}s yet.`)));
    }
    this.nextButton.hidden = !page.nextToken;
    this.pageSize.disabled = page.shape === "array";
    this.shape.textContent =
      page.shape === "array"
        ? `v1 answered a bare array of ${page.items.length} ${this.noun}s (no pages).`
        : `v2 answered {"items": [${page.items.length}], "nextToken": ${page.nextToken ? "\"…\"" : "null"}}.`;
  }

  row(item) {
    const cells = this.columns.map(([, cell]) => el("td", {}, cell(item)));
    const buttons = el(
      "div",
      { class: "row-actions" },
      el("button", { type: "button", class: "secondary", "aria-label": `Edit ${item.name}`, onclick: () => this.edit(item) }, "Edit"),
      el("button", { type: "button", class: "danger", "aria-label": `Delete ${item.name}`, onclick: (event) => this.remove(item, event.currentTarget) }, "Delete"),
      ...this.extraActions(item),
    );
    return el("tr", { dataset: { id: item.id } }, ...cells, el("td", {}, buttons));
  }

  /** Fills the form with the item as shown; saving then sends If-Match with its version. */
  edit(item) {
    this.resetForm();
    this.editing = { id: item.id, version: item.version };
    for (const input of this.inputs()) {
      input.value = item[input.name] ?? "";
    }
    this.form.elements.id.value = item.id;
    this.form.elements.id.readOnly = true;
    this.form.querySelector(".form-title").textContent = `Edit ${this.noun} ${item.id} (version ${item.version})`;
    this.root.querySelector('[data-action="cancel"]').hidden = false;
    this.form.elements.name.focus();
  }

  resetForm() {
    this.form.reset();
    this.editing = null;
    this.form.elements.id.readOnly = false;
    this.form.querySelector(".form-title").textContent = `New ${this.noun}`;
    this.root.querySelector('[data-action="cancel"]').hidden = true;
  }

  /** The item's own fields (not the id, not the server's). */
  inputs() {
    return [...this.form.elements].filter((input) => input.name && !SERVER_FIELDS.has(input.name));
  }

  /** The body exactly as typed: the server validates it and says what is wrong. */
  readBody() {
    const body = {};
    for (const input of this.inputs()) {
      const text = input.value.trim();
      if (text === "") continue;
      body[input.name] = input.dataset.type === "integer" && /^-?\d+$/.test(text) ? Number(text) : text;
    }
    return body;
  }

  async save() {
    const body = this.readBody();
    const editing = this.editing;
    const id = editing?.id ?? (this.form.elements.id.value.trim() || idFromName(body.name ?? this.noun));
    const response = await this.api.request("PUT", `${this.path}/${encodeURIComponent(id)}`, {
      body,
      ifMatch: editing?.version,
    });
    const stored = response.body;
    const verb = response.status === 201 ? "Created" : "Saved";
    announce(`${verb} ${this.noun} ${stored.name} (${stored.id}, version ${stored.version}).`);
    this.resetForm();
    await this.load();
  }

  async remove(item, button) {
    await busy(
      button,
      async () => {
        await this.api.request("DELETE", `${this.path}/${encodeURIComponent(item.id)}`, {
          ifMatch: item.version,
        });
        announce(`Deleted ${this.noun} ${item.name} (${item.id}).`);
        if (this.editing?.id === item.id) this.resetForm();
        await this.load();
      },
      (error) => announceError(describeError(error)),
    );
  }
}

export const PET_COLUMNS = [
  ["name", (pet) => pet.name],
  ["species", (pet) => pet.species],
  ["breed", (pet) => pet.breed ?? ""],
  ["ageMonths", (pet) => (pet.ageMonths ?? "").toString()],
  ["priceCents", (pet) => formatCents(pet.priceCents)],
  ["version", (pet) => String(pet.version)],
];

export const FOOD_COLUMNS = [
  ["name", (food) => food.name],
  ["species", (food) => food.species],
  ["weightGrams", (food) => (food.weightGrams ?? "").toString()],
  ["priceCents", (food) => formatCents(food.priceCents)],
  ["version", (food) => String(food.version)],
];
