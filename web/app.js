// Entry point: reads config.json (the same document locally and deployed), then shows one screen
// at a time from the address's #fragment:
//
//   #/                the shop (everyone)        #/pets/<id>   a pet's page (everyone)
//   #/account         sign in, sign up           #/profile     the display name
//   #/console[/pets/<id>|/foods/<id>]            the catalogue console (staff)
//
// Who is staff comes from the access token's `cognito:groups`: everyone else sees no staff control
// (elements marked data-staff stay hidden), and the API refuses them anyway.

import { ApiError, StoreApi } from "./api.js";
import { Account } from "./account.js";
import { Auth } from "./auth.js";
import { Catalogue, FOOD_COLUMNS, PET_COLUMNS } from "./catalogue.js";
import { PetPage } from "./pet.js";
import { Shop } from "./shop.js";
import { announce, CURRENCY, el } from "./ui.js";

const $ = (selector) => document.querySelector(selector);
const TITLE = "Pet store";

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be read (${response.status}).`);
  return response.json();
}

/** "#/pets/rex" -> {view: "pet", id: "rex"}; anything unknown is the shop. */
export function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "pets" && parts[1]) return { view: "pet", id: parts[1] };
  if (parts[0] === "account") return { view: "account" };
  if (parts[0] === "profile") return { view: "profile" };
  if (parts[0] === "console") return { view: "console", collection: parts[1], id: parts[2] };
  return { view: "shop" };
}

class App {
  constructor(config) {
    this.auth = new Auth(config, () => this.sessionChanged());
    this.api = new StoreApi(config, this.auth);
    this.displayName = null;
    this.returnTo = "#/";
    this.firstRender = true;
    this.shop = new Shop($("#view-shop"), this.api);
    this.petPage = new PetPage($("#view-pet"), {
      api: this.api,
      auth: this.auth,
      onDeleted: (pet) => {
        announce(`Deleted ${pet.name}.`);
        location.hash = "#/"; // the deleted pet's page closes
      },
    });
    this.account = new Account($("#view-account"), $("#view-profile"), {
      auth: this.auth,
      api: this.api,
      signedIn: () => this.signedIn(),
      named: (name, first) => this.named(name, first),
    });
    this.catalogues = {
      pets: new Catalogue({
        root: $("#console-pets"),
        api: this.api,
        noun: "pet",
        path: "/pets",
        columns: PET_COLUMNS,
        link: (pet) =>
          el(
            "a",
            { href: `#/pets/${encodeURIComponent(pet.id)}`, class: "button-link secondary small", "aria-label": `Photos and comments of ${pet.name}` },
            "Photos & comments",
          ),
      }),
      foods: new Catalogue({ root: $("#console-foods"), api: this.api, noun: "food", path: "/foods", columns: FOOD_COLUMNS }),
    };
    for (const label of document.querySelectorAll("[data-currency]")) label.textContent = CURRENCY;
    $("#sign-out").addEventListener("click", () => this.signOut());
    window.addEventListener("hashchange", () => this.render());
    this.wireApiPanel();
  }

  async start() {
    try {
      await this.auth.resume();
    } catch (error) {
      announce(error.message);
    }
    this.sessionChanged();
    if (this.auth.signedIn) this.loadName();
    await this.render();
    document.body.dataset.ready = "true";
  }

  // ------------------------------------------------------------------ session
  sessionChanged() {
    const signedIn = this.auth.signedIn;
    if (!signedIn) this.displayName = null;
    $("#sign-in-link").hidden = signedIn;
    $("#sign-out").hidden = !signedIn;
    const name = $("#session-name");
    name.hidden = !signedIn;
    name.textContent = signedIn ? `Signed in as ${this.displayName ?? this.auth.email}` : "";
    const staff = this.auth.isStaff;
    for (const element of document.querySelectorAll("[data-staff]")) element.hidden = !staff;
    document.body.classList.toggle("is-staff", staff);
    this.petPage?.refreshRole(); // the comment form or the sign-in prompt, staff controls or none
  }

  /** GET /me: the display name, or null while the user has none (404). */
  async loadName() {
    try {
      const me = (await this.api.request("GET", "/me", { signed: true })).body;
      this.displayName = me.displayName;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) return undefined;
      this.displayName = null;
    }
    this.sessionChanged();
    return this.displayName;
  }

  /** After a sign-in: a name first if there is none yet, then back where the user was. */
  async signedIn() {
    this.sessionChanged();
    const name = await this.loadName();
    if (name === null) {
      this.account.openProfile("", true);
      location.hash = "#/profile";
      return;
    }
    location.hash = this.returnTo;
  }

  named(name, first) {
    this.displayName = name;
    this.sessionChanged();
    if (first) {
      announce(`Welcome, ${name}!`);
      location.hash = this.returnTo;
    }
  }

  async signOut() {
    const revoked = await this.auth.signOut();
    announce(revoked ? "Signed out." : "Signed out of this tab (Cognito did not confirm that the session is revoked).");
    const { view } = parseRoute(location.hash);
    if (view === "console" || view === "profile") location.hash = "#/";
    else this.render();
  }

  // ------------------------------------------------------------------ screens
  show(view) {
    for (const section of document.querySelectorAll("main > .view")) section.hidden = section.dataset.view !== view;
    for (const link of document.querySelectorAll("[data-nav]")) {
      if (link.dataset.nav === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const section = $(`#view-${view}`);
    document.title = `${section.querySelector("h1").textContent} · ${TITLE}`;
    if (!this.firstRender) section.querySelector("h1").focus(); // screen readers hear the new screen
    this.firstRender = false;
  }

  async render() {
    const route = parseRoute(location.hash);
    if (route.view !== "account" && route.view !== "profile") this.returnTo = location.hash || "#/";
    if (route.view !== "pet") this.petPage.close();
    switch (route.view) {
      case "pet":
        this.show("pet");
        await this.petPage.open(route.id);
        if (this.petPage.pet) document.title = `${this.petPage.pet.name} · ${TITLE}`;
        break;
      case "account":
        if (this.auth.signedIn) {
          location.hash = this.returnTo;
          return;
        }
        this.account.reset();
        this.show("account");
        break;
      case "profile":
        if (!this.auth.signedIn) {
          location.hash = "#/account";
          return;
        }
        if (!this.account.firstName) this.account.openProfile(this.displayName, false);
        this.show("profile");
        break;
      case "console":
        this.show("console");
        await this.openConsole(route);
        break;
      default:
        this.show("shop");
        await this.shop.load();
    }
  }

  async openConsole({ collection, id }) {
    const staff = this.auth.isStaff;
    $("#console-denied").hidden = staff;
    if (!staff) return;
    const { pets, foods } = this.catalogues;
    await Promise.all([pets.load(), foods.load()]);
    const catalogue = this.catalogues[collection];
    if (catalogue && id) {
      await catalogue.editById(id);
      catalogue.form.scrollIntoView({ block: "start" });
    }
  }

  // ------------------------------------------------------------------ the developers' API panel
  wireApiPanel() {
    const select = $("#version-select");
    const showTarget = () => {
      const { baseUrl, accept } = this.api.target;
      $("#api-target").textContent = accept === "application/json" ? baseUrl : `${baseUrl} (Accept: ${accept})`;
    };
    for (const option of select.options) option.disabled = !this.api.hasVersion(option.value);
    select.addEventListener("change", () => {
      this.api.version = select.value;
      showTarget();
      announce(`Using API ${this.api.version}.`);
      this.render();
    });
    showTarget();
  }
}

async function main() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    announce(`The shop cannot open: ${error.message}`);
    return;
  }
  await new App(config).start();
}

main();
