// A pet's photos: the gallery everyone sees (READY photos, thumbnail or 1024 px rendition as the
// screen needs), and for staff every photo with its status, an upload form and Delete. Uploading
// asks the API for a presigned form, POSTs it straight to S3 (fields first, the file last), then
// polls (bounded) until the photo is READY or FAILED.

import { ApiError, describeError } from "./api.js";
import { busy, confirmAction, el, FormFeedback, formatDate } from "./ui.js";

const ACCEPTED_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);
const LIST_LIMIT = 20;
const POLL_INTERVAL_MS = 700;
const POLL_ATTEMPTS = 80; // about a minute, then the form stops asking (the photo may still finish)

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** S3 answers errors in XML: its <Message> is what the user needs. */
async function uploadError(response) {
  const text = await response.text();
  const message = new DOMParser().parseFromString(text, "application/xml").querySelector("Message")?.textContent;
  return new ApiError(response.status, `The upload was refused: ${message || response.statusText}`);
}

async function postForm(upload, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append("file", file); // S3 ignores every field after the file
  let response;
  try {
    response = await fetch(upload.url, { method: "POST", body: form });
  } catch {
    throw new ApiError(0, "Cannot reach the photo storage: check your connection and try again.");
  }
  if (!response.ok) throw await uploadError(response);
}

const bySize = (photo) => [...(photo.renditions ?? [])].sort((a, b) => a.width - b.width);

export class Photos {
  constructor(root, api, auth) {
    this.api = api;
    this.auth = auth;
    this.gallery = root.querySelector("#pet-gallery");
    this.admin = root.querySelector("#pet-photo-admin");
    this.adminList = root.querySelector("#photo-admin-list");
    this.form = root.querySelector("#photo-form");
    this.feedback = new FormFeedback(this.form);
    this.pet = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(event.submitter, () => this.upload());
    });
  }

  /** Shows a pet's photos (resets the upload form). */
  async open(pet) {
    this.pet = pet;
    this.form.reset();
    this.feedback.clear();
    this.gallery.replaceChildren();
    this.adminList.replaceChildren();
    await this.refresh();
  }

  close() {
    this.pet = null;
  }

  /** Lists the pet's photos (newest first) and shows them; returns them. */
  async refresh() {
    const pet = this.pet;
    if (!pet) return [];
    let items;
    try {
      items = (await this.api.list(`/pets/${encodeURIComponent(pet.id)}/photos`, { limit: LIST_LIMIT })).items;
    } catch (error) {
      this.gallery.replaceChildren(el("li", { class: "empty" }, `The photos could not be shown: ${describeError(error)}`));
      return [];
    }
    if (this.pet !== pet) return []; // another pet was opened meanwhile
    const ready = items.filter((photo) => photo.status === "READY" && photo.renditions?.length);
    this.gallery.replaceChildren(...ready.map((photo, index) => this.picture(photo, index, ready.length)));
    if (!ready.length) this.gallery.append(el("li", { class: "empty no-photo" }, `No photos of ${pet.name} yet.`));
    if (this.auth.isStaff) {
      this.adminList.replaceChildren(...items.map((photo) => this.adminItem(photo)));
      if (!items.length) this.adminList.append(el("li", { class: "empty" }, "No photos uploaded."));
    }
    return items;
  }

  picture(photo, index, count) {
    const sizes = bySize(photo);
    const large = sizes[sizes.length - 1];
    return el(
      "li",
      { class: "photo", dataset: { photoId: photo.photoId } },
      el("img", {
        src: large.url,
        srcset: sizes.map((size) => `${size.url} ${size.width}w`).join(", "),
        sizes: "(max-width: 48rem) 100vw, 36rem",
        width: large.width,
        height: large.height,
        alt: count > 1 ? `${this.pet.name}, photo ${index + 1} of ${count}` : `Photo of ${this.pet.name}`,
      }),
    );
  }

  adminItem(photo) {
    const thumbnail = bySize(photo)[0];
    const label = `photo uploaded ${formatDate(photo.createdAt)}`;
    return el(
      "li",
      { class: "photo-row", dataset: { photoId: photo.photoId, status: photo.status } },
      thumbnail && photo.status === "READY"
        ? el("img", { src: thumbnail.url, width: thumbnail.width, height: thumbnail.height, alt: `Thumbnail of the ${label}` })
        : el("span", { class: "no-photo small" }, "No image"),
      el(
        "div",
        { class: "photo-meta" },
        el("span", { class: `badge ${photo.status.toLowerCase()}` }, photo.status),
        el("span", { class: "meta" }, formatDate(photo.createdAt)),
        photo.status === "FAILED" ? el("p", { class: "reason" }, photo.reason ?? "No reason given.") : null,
      ),
      el(
        "button",
        { type: "button", class: "danger small", "aria-label": `Delete ${label}`, onclick: () => this.remove(photo) },
        "Delete",
      ),
    );
  }

  async remove(photo) {
    const pet = this.pet;
    const done = await confirmAction({
      title: "Delete this photo?",
      text: `The photo of ${pet.name} uploaded ${formatDate(photo.createdAt)} goes from the shop for good.`,
      describe: describeError,
      run: async () => {
        try {
          await this.api.request("DELETE", `/pets/${encodeURIComponent(pet.id)}/photos/${photo.photoId}`);
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error; // gone already
        }
      },
    });
    if (!done) return;
    this.feedback.ok("Photo deleted.");
    await this.refresh();
  }

  async upload() {
    this.feedback.clear();
    const input = this.form.elements.file;
    const file = input.files[0];
    if (!file || !ACCEPTED_TYPES.has(file.type)) {
      this.feedback.markInvalid(input);
      this.feedback.error("Choose a JPEG, PNG or WebP image.");
      input.focus();
      return;
    }
    const pet = this.pet;
    try {
      this.feedback.progress(`Uploading ${file.name}…`);
      const ticket = (
        await this.api.request("POST", `/pets/${encodeURIComponent(pet.id)}/photos`, { body: { contentType: file.type } })
      ).body;
      if (file.size > ticket.maxBytes) {
        this.feedback.markInvalid(input, `The file is larger than ${Math.floor(ticket.maxBytes / 1048576)} MB.`);
        this.feedback.error("Choose a smaller photo.");
        return;
      }
      await postForm(ticket.upload, file);
      this.form.reset();
      this.feedback.progress(`Uploaded ${file.name}: processing…`);
      await this.waitFor(pet, ticket.photoId);
    } catch (error) {
      this.feedback.apiError(error, describeError);
    }
  }

  /** Polls (bounded) until the photo leaves PENDING; says how it ended. */
  async waitFor(pet, photoId) {
    for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt += 1) {
      if (this.pet !== pet) return;
      const photo = (await this.refresh()).find((item) => item.photoId === photoId);
      if (photo?.status === "READY") return this.feedback.ok("The photo is READY and in the shop.");
      if (photo?.status === "FAILED") return this.feedback.error(`The photo FAILED: ${photo.reason ?? "no reason given"}`);
      await sleep(POLL_INTERVAL_MS);
    }
    this.feedback.ok("The photo is still being processed; it shows here once it is READY.");
  }
}
