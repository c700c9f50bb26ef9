// Entry point: reads config.json (the same document locally and when deployed), then wires the
// account forms, the API version switch and the panels.

import { describeError, StoreApi } from "./api.js";
import { Auth } from "./auth.js";
import { Catalogue, FOOD_COLUMNS, PET_COLUMNS } from "./catalogue.js";
import { CommentsPanel } from "./comments.js";
import { PhotoPanel } from "./photos.js";
import { announce, announceError, busy, el } from "./ui.js";

const $ = (selector) => document.querySelector(selector);

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be read (${response.status}).`);
  return response.json();
}

function showSession(session) {
  $("#session-state").textContent = session ? `Signed in as ${session.email}` : "Not signed in";
  $("#sign-out").hidden = !session;
  $("#account").hidden = Boolean(session);
}

// ---------------------------------------------------------------------- account
function wireAccount(auth) {
  const form = $("#account-form");
  const confirmForm = $("#confirm-form");
  const credentials = () => ({ email: form.elements.email.value.trim(), password: form.elements.password.value });

  const askForConfirmation = (email) => {
    confirmForm.hidden = false;
    confirmForm.dataset.email = email;
    $("#confirm-code-label").hidden = Boolean(auth.localConfirmUrl);
    $("#confirm-intro").textContent = auth.localConfirmUrl
      ? `Confirm ${email}: the local cloud sends no email, so confirming here stands in for the emailed code.`
      : `Enter the code Cognito emailed to ${email}.`;
  };

  const actions = {
    "sign-up": async ({ email, password }) => {
      const confirmed = await auth.signUp(email, password);
      if (confirmed) return announce(`Account created for ${email}: you can sign in.`);
      askForConfirmation(email);
      return announce(`Account created for ${email}: confirm it, then sign in.`);
    },
    "sign-in": async ({ email, password }) => {
      try {
        await auth.signIn(email, password);
      } catch (error) {
        if (error.code === "UserNotConfirmedException") askForConfirmation(email);
        throw error;
      }
      form.reset();
      confirmForm.hidden = true;
      return announce(`Signed in as ${auth.email}.`);
    },
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const action = actions[event.submitter?.value ?? "sign-in"];
    busy(event.submitter, () => action(credentials()), (error) => announceError(describeError(error)));
  });

  confirmForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const email = confirmForm.dataset.email;
    const confirm = auth.localConfirmUrl
      ? () => auth.confirmLocally(email)
      : () => auth.confirmWithCode(email, confirmForm.elements.code.value.trim());
    busy(
      event.submitter,
      async () => {
        await confirm();
        confirmForm.hidden = true;
        confirmForm.reset();
        announce(`Account ${email} confirmed: sign in.`);
      },
      (error) => announceError(describeError(error)),
    );
  });

  $("#sign-out").addEventListener("click", () => {
    auth.signOut();
    announce("Signed out.");
  });
}

// ---------------------------------------------------------------------- API version
function wireVersion(api, panels) {
  const select = $("#version-select");
  const showTarget = () => {
    const { baseUrl, accept } = api.target;
    $("#api-target").textContent = accept === "application/json" ? baseUrl : `${baseUrl} (Accept: ${accept})`;
  };
  for (const option of select.options) option.disabled = !api.hasVersion(option.value);
  select.addEventListener("change", () => {
    api.version = select.value;
    showTarget();
    announce(`Using API ${api.version}.`);
    panels.forEach((panel) => panel.reload());
  });
  showTarget();
}

// ---------------------------------------------------------------------- start
async function start() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    announceError(`The page cannot start: ${error.message}`);
    return;
  }
  const auth = new Auth(config, showSession);
  const api = new StoreApi(config, auth);
  const photos = new PhotoPanel($("#pet-details"), api);
  const comments = new CommentsPanel($("#comments"), api);
  const openPet = (pet) => {
    photos.show(pet);
    comments.open(pet.id);
  };
  const pets = new Catalogue({
    root: $("#pets"),
    api,
    noun: "pet",
    path: "/pets",
    columns: PET_COLUMNS,
    extraActions: (pet) => [
      el(
        "button",
        { type: "button", class: "secondary", "aria-label": `Photos and comments for ${pet.name}`, onclick: () => openPet(pet) },
        "Photos & comments",
      ),
    ],
  });
  const foods = new Catalogue({ root: $("#foods"), api, noun: "food", path: "/foods", columns: FOOD_COLUMNS });

  wireAccount(auth);
  wireVersion(api, [
    { reload: () => pets.load() },
    { reload: () => foods.load() },
    { reload: () => photos.refresh() },
    { reload: () => comments.open(comments.pageId) },
  ]);
  try {
    await auth.resume();
  } catch (error) {
    announceError(describeError(error));
  }
  showSession(auth.session);
  await Promise.all([pets.load(), foods.load()]);
  if (!$("#status").dataset.kind) announce("Ready.");
}

start();
