// A pet's page: its details and price, its photos, its comments; for staff also the photo
// upload and moderation, "Edit in the console" and "Delete pet" (which closes the page).

import { ApiError, describeError } from "./api.js";
import { Comments } from "./comments.js";
import { Photos } from "./photos.js";
import { confirmAction, el, formatPrice } from "./ui.js";

export class PetPage {
  /** `onDeleted(pet)` runs once the pet is deleted from here (the app leaves the page). */
  constructor(root, { api, auth, onDeleted }) {
    this.root = root;
    this.api = api;
    this.auth = auth;
    this.onDeleted = onDeleted;
    this.article = root.querySelector("#pet");
    this.error = root.querySelector("#pet-error");
    this.photos = new Photos(root, api, auth);
    this.comments = new Comments(root.querySelector("#comments"), api, auth);
    this.pet = null;
    root.querySelector("#pet-delete").addEventListener("click", () => this.remove());
  }

  async open(petId) {
    this.pet = null;
    this.error.textContent = "";
    this.article.hidden = true;
    this.root.querySelector("#comments").hidden = true;
    this.root.querySelector("#pet-title").textContent = "Pet";
    let pet;
    try {
      pet = await this.api.item(`/pets/${encodeURIComponent(petId)}`);
    } catch (error) {
      this.error.textContent = `This pet could not be shown: ${describeError(error)}`;
      return null;
    }
    if (!pet) {
      this.error.textContent = `There is no pet “${petId}” in the shop: it may have found a home already.`;
      return null;
    }
    this.show(pet);
    await Promise.all([this.photos.open(pet), this.comments.open(pet)]);
    return pet;
  }

  close() {
    this.pet = null;
    this.photos.close();
    this.comments.close();
  }

  /** Signed in or out, staff or not: the controls follow. */
  refreshRole() {
    if (!this.pet) return;
    this.comments.showForm();
    this.comments.load();
    this.photos.refresh();
  }

  show(pet) {
    this.pet = pet;
    document.title = `${pet.name} · Pet store`;
    this.root.querySelector("#pet-title").textContent = pet.name;
    this.root.querySelector("#pet-price").textContent = formatPrice(pet.priceCents);
    const facts = [
      ["Species", pet.species],
      ["Breed", pet.breed],
      ["Age", typeof pet.ageMonths === "number" ? `${pet.ageMonths} months` : null],
    ].filter(([, value]) => value);
    this.root.querySelector("#pet-facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
    this.root.querySelector("#pet-edit").href = `#/console/pets/${encodeURIComponent(pet.id)}`;
    this.root.querySelector("#pet-delete").setAttribute("aria-label", `Delete ${pet.name}`);
    this.article.hidden = false;
    this.root.querySelector("#comments").hidden = false;
  }

  /** Delete with If-Match; a 412 reloads the pet and asks again about the version now stored. */
  async remove() {
    const pet = this.pet;
    let version = pet.version;
    const done = await confirmAction({
      title: `Delete ${pet.name}?`,
      text: `${pet.name} leaves the shop, with its photos and comments. This cannot be undone.`,
      describe: describeError,
      run: async ({ ask }) => {
        try {
          await this.api.request("DELETE", `/pets/${encodeURIComponent(pet.id)}`, { ifMatch: version });
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) return; // gone already
          if (!(error instanceof ApiError && (error.status === 412 || error.status === 428))) throw error;
          const current = await this.api.item(`/pets/${encodeURIComponent(pet.id)}`);
          if (!current) return;
          version = current.version;
          this.show(current);
          ask(`${current.name} is now at version ${current.version}. Delete it anyway?`);
          throw new Error(`Someone changed ${current.name} since you opened it; the page shows it as it is now.`);
        }
      },
    });
    if (done) this.onDeleted(pet);
  }
}
