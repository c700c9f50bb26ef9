// The shop, for everyone: pets as cards (their newest READY photo's thumbnail, the price in the
// store's currency), each a link to the pet's page; food likewise. "Load more" follows nextToken.

import { describeError } from "./api.js";
import { busy, el, formatPrice } from "./ui.js";

export const SHOP_PAGE_SIZE = 8;
/** Photos asked for per card: the newest READY one among them is shown. */
const CARD_PHOTOS = 5;

/** The smallest rendition of a READY photo (the thumbnail), or null. */
export function thumbnailOf(photo) {
  if (photo?.status !== "READY" || !photo.renditions?.length) return null;
  return [...photo.renditions].sort((a, b) => a.width - b.width)[0];
}

export function petFacts(pet) {
  const age = typeof pet.ageMonths === "number" ? `${pet.ageMonths} ${pet.ageMonths === 1 ? "month" : "months"}` : null;
  return [pet.species, pet.breed, age].filter(Boolean).join(" · ");
}

/** One list of cards with its own "Load more" and its own error line. */
class CardList {
  constructor({ api, list, more, error, path, noun, card }) {
    Object.assign(this, { api, list, more, error, path, noun, card });
    this.nextToken = null;
    more.addEventListener("click", () => busy(more, () => this.load(this.nextToken)));
  }

  async load(nextToken = null) {
    this.error.textContent = "";
    try {
      const page = await this.api.list(this.path, { limit: SHOP_PAGE_SIZE, nextToken });
      const cards = page.items.map((item) => this.card(item));
      if (nextToken) this.list.append(...cards);
      else this.list.replaceChildren(...cards);
      if (!nextToken && cards.length === 0) this.list.append(el("li", { class: "empty" }, `No ${this.noun} in the shop yet.`));
      this.nextToken = page.nextToken;
      this.more.hidden = !page.nextToken;
    } catch (error) {
      this.error.textContent = `Could not show the ${this.noun}: ${describeError(error)}`;
    }
  }
}

export class Shop {
  constructor(root, api) {
    this.api = api;
    this.pets = new CardList({
      api,
      list: root.querySelector("#pet-cards"),
      more: root.querySelector("#pets-more"),
      error: root.querySelector('[data-list-error="pets"]'),
      path: "/pets",
      noun: "pets",
      card: (pet) => this.petCard(pet),
    });
    this.foods = new CardList({
      api,
      list: root.querySelector("#food-cards"),
      more: root.querySelector("#foods-more"),
      error: root.querySelector('[data-list-error="foods"]'),
      path: "/foods",
      noun: "food",
      card: (food) => this.foodCard(food),
    });
  }

  load() {
    return Promise.all([this.pets.load(), this.foods.load()]);
  }

  petCard(pet) {
    const picture = el("div", { class: "card-photo" }, el("span", { class: "no-photo" }, "No photo yet"));
    this.fillPhoto(pet, picture);
    const link = el(
      "a",
      { href: `#/pets/${encodeURIComponent(pet.id)}`, class: "card-link" },
      picture,
      el("h3", { class: "card-title" }, pet.name),
    );
    return el(
      "li",
      { class: "card", dataset: { id: pet.id } },
      link,
      el("p", { class: "card-facts" }, petFacts(pet)),
      el("p", { class: "price" }, formatPrice(pet.priceCents)),
    );
  }

  foodCard(food) {
    const weight = typeof food.weightGrams === "number" ? `${food.weightGrams.toLocaleString()} g` : null;
    return el(
      "li",
      { class: "card food", dataset: { id: food.id } },
      el("h3", { class: "card-title" }, food.name),
      el("p", { class: "card-facts" }, [`For ${food.species}`, weight].filter(Boolean).join(" · ")),
      el("p", { class: "price" }, formatPrice(food.priceCents)),
    );
  }

  /** The newest READY photo's thumbnail, once the pet's photos are listed (the card shows at once). */
  async fillPhoto(pet, picture) {
    try {
      const page = await this.api.list(`/pets/${encodeURIComponent(pet.id)}/photos`, { limit: CARD_PHOTOS });
      const thumbnail = page.items.map(thumbnailOf).find(Boolean);
      if (!thumbnail) return;
      picture.replaceChildren(
        el("img", { src: thumbnail.url, width: thumbnail.width, height: thumbnail.height, alt: `Photo of ${pet.name}`, loading: "lazy" }),
      );
    } catch {
      // the card stays without a photo: the pet is still for sale
    }
  }
}
