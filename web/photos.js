// Photos of one pet: ask the API for a presigned upload, POST the form straight to S3 (fields
// first, the file last), then poll the pet's photos until the new one is READY or FAILED.

import { ApiError, describeError } from "./api.js";
import { announce, announceError, busy, el, formatDate } from "./ui.js";

const ACCEPTED_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);
const POLL_INTERVAL_MS = 1000;
const POLL_ATTEMPTS = 60; // about a minute, then the page stops asking (the photo may still finish)

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
    throw new ApiError(0, `Cannot reach the upload URL (${new URL(upload.url).origin}).`);
  }
  if (!response.ok) throw await uploadError(response);
}

export class PhotoPanel {
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.list = root.querySelector("#photo-list");
    this.form = root.querySelector("#photo-form");
    this.pet = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(event.submitter, () => this.upload(), (error) => announceError(describeError(error)));
    });
  }

  async show(pet) {
    this.pet = pet;
    this.root.hidden = false;
    this.root.querySelector("h2").textContent = `Photos of ${pet.name}`;
    this.form.reset();
    await this.refresh();
  }

  hide() {
    this.pet = null;
    this.root.hidden = true;
  }

  /** Lists the pet's photos; returns them (newest first). */
  async refresh() {
    const pet = this.pet;
    if (!pet) return [];
    try {
      const page = await this.api.list(`/pets/${encodeURIComponent(pet.id)}/photos`, { limit: 20 });
      if (this.pet !== pet) return []; // another pet was chosen meanwhile
      this.list.replaceChildren(...page.items.map((photo) => this.item(photo)));
      if (page.items.length === 0) this.list.append(el("li", { class: "empty" }, "No photos yet."));
      return page.items;
    } catch (error) {
      announceError(`Could not list photos: ${describeError(error)}`);
      return [];
    }
  }

  item(photo) {
    const status = el("span", { class: `badge ${photo.status.toLowerCase()}` }, photo.status);
    const parts = [status, " ", el("span", { class: "meta" }, formatDate(photo.createdAt))];
    if (photo.status === "FAILED") parts.push(el("p", { class: "reason" }, photo.reason ?? "No reason given."));
    if (photo.status === "READY" && photo.renditions.length) parts.push(this.picture(photo));
    return el("li", { class: "photo", dataset: { photoId: photo.photoId, status: photo.status } }, ...parts);
  }

  picture(photo) {
    const largest = photo.renditions[0];
    const smallest = photo.renditions[photo.renditions.length - 1];
    const image = el("img", {
      src: smallest.url,
      width: smallest.width,
      height: smallest.height,
      alt: `Photo of ${this.pet.name}, ${smallest.width} by ${smallest.height} pixels`,
      loading: "lazy",
    });
    return el("a", { href: largest.url, target: "_blank", rel: "noopener" }, image);
  }

  async upload() {
    const file = this.form.elements.file.files[0];
    if (!file) return announceError("Choose a photo file first.");
    if (!ACCEPTED_TYPES.has(file.type)) return announceError("Choose a JPEG, PNG or WebP image.");
    const pet = this.pet;
    const ticket = (
      await this.api.request("POST", `/pets/${encodeURIComponent(pet.id)}/photos`, {
        body: { contentType: file.type },
      })
    ).body;
    if (file.size > ticket.maxBytes) {
      return announceError(`The file is larger than ${Math.floor(ticket.maxBytes / 1048576)} MiB.`);
    }
    announce(`Uploading ${file.name}…`);
    await postForm(ticket.upload, file);
    this.form.reset();
    announce(`Uploaded ${file.name}: processing (PENDING)…`);
    await this.waitFor(pet, ticket.photoId);
  }

  /** Polls (bounded) until the photo leaves PENDING; says how it ended. */
  async waitFor(pet, photoId) {
    for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt += 1) {
      if (this.pet !== pet) return undefined; // the user moved on to another pet
      const photo = (await this.refresh()).find((item) => item.photoId === photoId);
      if (photo?.status === "READY") return announce("The photo is READY.");
      if (photo?.status === "FAILED") return announceError(`The photo FAILED: ${photo.reason ?? "no reason given"}`);
      await sleep(POLL_INTERVAL_MS);
    }
    return announce("The photo is still PENDING; it will show here once processed (reload the pet).");
  }
}
