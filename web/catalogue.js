// The console's catalogue editor (pets or food, staff only): a paged table, and a form that creates
// (If-None-Match: *, so an existing id is never overwritten) or edits (If-Match: the version shown).
//
// Conflicts mend themselves: when a save is refused with 412 because someone else saved the item
// meanwhile, the item is reloaded, the form says what they changed, takes their values for the
// fields you left alone, keeps your edits, and is now at their version, so saving again succeeds.
// A 428 (no version sent) fetches the version and asks to save again to confirm.

import { ApiError, describeError } from "./api.js";
import { busy, centsFrom, confirmAction, el, FormFeedback, formatPrice, idFromName } from "./ui.js";

const PAGE_SIZE = 20;

/** Fields the server manages: never sent. */
const SERVER_FIELDS = new Set(["id", "version", "createdAt", "updatedAt"]);

const same = (a, b) => (a ?? null) === (b ?? null);

export class Catalogue {
  /**
   * @param {object} options
   * @param {HTMLElement} options.root the console's <section> of this collection
   * @param {import("./api.js").StoreApi} options.api
   * @param {string} options.noun "pet" or "food"
   * @param {string} options.path "/pets" or "/foods"
   * @param {Array<[string, string, (item: object) => string]>} options.columns [key, heading, cell]
   * @param {(item: object) => HTMLElement|null} [options.link] a link per row (the pet's page)
   */
  constructor({ root, api, noun, path, columns, link = () => null }) {
    Object.assign(this, { root, api, noun, path, columns, link });
    this.form = root.querySelector("form.item-form");
    this.feedback = new FormFeedback(this.form);
    this.body = root.querySelector("tbody");
    this.listStatus = root.querySelector("[data-list-status]");
    this.more = root.querySelector('[data-action="more"]');
    this.cancel = root.querySelector('[data-action="cancel"]');
    this.editing = null; // {id, version, base}: the item as the form was filled from it
    this.nextToken = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(event.submitter, () => this.save());
    });
    this.cancel.addEventListener("click", () => this.resetForm());
    this.more.addEventListener("click", () => busy(this.more, () => this.load(this.nextToken)));
  }

  itemPath(id) {
    return `${this.path}/${encodeURIComponent(id)}`;
  }

  // ------------------------------------------------------------------ the table
  async load(nextToken = null) {
    try {
      const page = await this.api.list(this.path, { limit: PAGE_SIZE, nextToken });
      const rows = page.items.map((item) => this.row(item));
      if (nextToken) this.body.append(...rows);
      else this.body.replaceChildren(...rows);
      if (!nextToken && rows.length === 0) {
        this.body.append(el("tr", {}, el("td", { colspan: this.columns.length + 1 }, `No ${this.noun} yet.`)));
      }
      this.nextToken = page.nextToken;
      this.more.hidden = !page.nextToken;
    } catch (error) {
      this.listStatus.textContent = `Could not list the ${this.noun}: ${describeError(error)}`;
    }
  }

  row(item) {
    const cells = this.columns.map(([, heading, cell]) => el("td", { dataset: { label: heading } }, cell(item)));
    const actions = el(
      "div",
      { class: "row-actions" },
      el("button", { type: "button", class: "secondary small", "aria-label": `Edit ${item.name}`, onclick: () => this.edit(item) }, "Edit"),
      el(
        "button",
        { type: "button", class: "danger small", "aria-label": `Delete ${item.name}`, onclick: () => this.remove(item) },
        "Delete",
      ),
      this.link(item),
    );
    return el("tr", { dataset: { id: item.id } }, ...cells, el("td", { class: "actions-cell" }, actions));
  }

  // ------------------------------------------------------------------ the form
  /** The inputs of the item's own fields, by their API name (data-field, else name). */
  inputs() {
    return [...this.form.elements].filter((input) => input.name && !SERVER_FIELDS.has(input.name));
  }

  keyOf(input) {
    return input.dataset.field || input.name;
  }

  labelOf(input) {
    return input.labels?.[0]?.textContent.trim() ?? input.name;
  }

  /** An input's value as the API takes it (price -> integer cents; numbers -> integers), or undefined. */
  valueOf(input) {
    const text = input.value.trim();
    if (text === "") return undefined;
    if (input.dataset.scale) return centsFrom(text) ?? text;
    if (input.type === "number") return /^-?\d+$/.test(text) ? Number(text) : text;
    return text;
  }

  /** An item's value as the input shows it. */
  setValue(input, value) {
    if (value === undefined || value === null) input.value = "";
    else if (input.dataset.scale) input.value = (value / Number(input.dataset.scale)).toFixed(2);
    else input.value = String(value);
  }

  show(key, value) {
    if (value === undefined || value === null || value === "") return "(empty)";
    return key === "priceCents" ? formatPrice(value) : String(value);
  }

  readBody() {
    const body = {};
    for (const input of this.inputs()) {
      const value = this.valueOf(input);
      if (value !== undefined) body[this.keyOf(input)] = value;
    }
    return body;
  }

  /** Fills the form with the item; saving then sends If-Match with its version. */
  edit(item) {
    this.resetForm();
    for (const input of this.inputs()) this.setValue(input, item[this.keyOf(input)]);
    this.form.elements.id.value = item.id;
    this.setEditing(item);
    this.form.elements.name.focus();
  }

  /** Opens an item by id (the pet page's "Edit in the console"). */
  async editById(id) {
    const item = await this.api.item(this.itemPath(id)).catch(() => null);
    if (item) this.edit(item);
    else this.feedback.error(`There is no ${this.noun} “${id}” to edit.`);
  }

  setEditing(item) {
    this.editing = { id: item.id, version: item.version, base: item };
    this.form.elements.id.readOnly = true;
    this.form.querySelector(".form-title").textContent = `Edit ${item.name} (version ${item.version})`;
    this.cancel.hidden = false;
  }

  resetForm() {
    this.form.reset();
    this.feedback.clear();
    this.editing = null;
    this.form.elements.id.readOnly = false;
    this.form.querySelector(".form-title").textContent = `New ${this.noun}`;
    this.cancel.hidden = true;
  }

  async save() {
    this.feedback.clear();
    const body = this.readBody();
    const editing = this.editing;
    const id = editing?.id ?? (this.form.elements.id.value.trim() || idFromName(body.name));
    this.feedback.progress("Saving…");
    let response;
    try {
      response = await this.api.request("PUT", this.itemPath(id), editing ? { body, ifMatch: editing.version } : { body, ifNoneMatch: "*" });
    } catch (error) {
      await this.refused(error, id, editing);
      return;
    }
    const stored = response.body;
    this.resetForm();
    this.feedback.ok(
      response.status === 201
        ? `Created ${stored.name} (${stored.id}).`
        : `Saved ${stored.name}: version ${stored.version}.`,
    );
    await this.load();
  }

  async refused(error, id, editing) {
    if (!(error instanceof ApiError)) return this.feedback.error(describeError(error));
    if (error.status === 412 && !editing) {
      this.feedback.markInvalid(this.form.elements.id, `There is already a ${this.noun} “${id}”: choose another ID, or leave it empty.`);
      this.form.elements.id.focus();
      return this.feedback.error("That ID is taken.");
    }
    if ((error.status === 412 || error.status === 428) && editing) return this.mend(error.status, editing);
    return this.feedback.apiError(error, describeError);
  }

  /** 412: someone saved meanwhile; 428: no version was sent. Reload, merge, keep the user's edits. */
  async mend(status, editing) {
    const current = await this.api.item(this.itemPath(editing.id));
    if (!current) {
      this.editing = null;
      this.form.elements.id.readOnly = false;
      this.form.querySelector(".form-title").textContent = `New ${this.noun}`;
      return this.feedback.error(
        `Someone deleted this ${this.noun} while you were editing it. Your values are kept: save to create it again.`,
      );
    }
    if (status === 428) {
      this.setEditing(current); // the form keeps what was typed
      return this.feedback.error(
        `To replace ${current.name}, confirm its version: it is at version ${current.version}. Save again to replace it.`,
      );
    }
    const changes = [];
    for (const input of this.inputs()) {
      const key = this.keyOf(input);
      const before = editing.base[key];
      const now = current[key];
      if (same(before, now)) continue;
      const mine = this.valueOf(input);
      const label = this.labelOf(input);
      if (same(mine, before)) {
        this.setValue(input, now); // you left it alone: theirs
        changes.push(`${label}: ${this.show(key, before)} → ${this.show(key, now)}`);
      } else {
        changes.push(`${label}: ${this.show(key, before)} → ${this.show(key, now)} (your ${this.show(key, mine)} is kept)`);
      }
    }
    this.setEditing(current);
    const what = changes.length ? `Their changes: ${changes.join("; ")}.` : "They changed nothing you can see here.";
    this.feedback.error(
      `Someone else saved ${current.name} while you were editing (now version ${current.version}). ${what} Your edits are kept: check them and save again.`,
    );
    this.load();
  }

  /** Delete with If-Match; a 412 reloads the item and asks again about the version now stored. */
  async remove(item) {
    let version = item.version;
    const done = await confirmAction({
      title: `Delete ${item.name}?`,
      text: `${item.name} (${item.id}) leaves the shop for good.`,
      describe: describeError,
      run: async ({ ask }) => {
        try {
          await this.api.request("DELETE", this.itemPath(item.id), { ifMatch: version });
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) return; // gone already
          if (!(error instanceof ApiError && (error.status === 412 || error.status === 428))) throw error;
          const current = await this.api.item(this.itemPath(item.id));
          if (!current) return;
          version = current.version;
          ask(`${current.name} is now at version ${current.version} (${formatPrice(current.priceCents)}). Delete it anyway?`);
          throw new Error(`Someone changed ${current.name} since the list was loaded.`);
        }
      },
    });
    if (!done) return;
    if (this.editing?.id === item.id) this.resetForm(); // the form belonged to the deleted item
    this.listStatus.textContent = `Deleted ${item.name}.`;
    await this.load();
  }
}

export const PET_COLUMNS = [
  ["name", "Name", (pet) => pet.name],
  ["species", "Species", (pet) => pet.species],
  ["priceCents", "Price", (pet) => formatPrice(pet.priceCents)],
  ["version", "Version", (pet) => String(pet.version)],
];

export const FOOD_COLUMNS = [
  ["name", "Name", (food) => food.name],
  ["species", "For", (food) => food.species],
  ["priceCents", "Price", (food) => formatPrice(food.priceCents)],
  ["version", "Version", (food) => String(food.version)],
];
