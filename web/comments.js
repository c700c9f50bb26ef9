// Comments of a page (any id; the pet panel opens a pet's own page), newest first, with
// "Older comments" following nextToken. Posting sends an Idempotency-Key, kept until the post
// succeeds, so retrying after a lost answer cannot post the same comment twice.

import { describeError } from "./api.js";
import { announce, announceError, busy, el, formatDate, randomId } from "./ui.js";

const PAGE_SIZE = 10;

export class CommentsPanel {
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.list = root.querySelector("#comment-list");
    this.more = root.querySelector("#comments-more");
    this.pageForm = root.querySelector("#comments-page-form");
    this.form = root.querySelector("#comment-form");
    this.pageId = "";
    this.nextToken = null;
    this.pending = null; // {message, key} of a post not yet acknowledged
    this.wire();
  }

  wire() {
    this.pageForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.open(this.pageForm.elements.pageId.value.trim());
    });
    this.more.addEventListener("click", () => this.load(this.nextToken));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(event.submitter, () => this.post(), (error) => announceError(describeError(error)));
    });
  }

  /** Shows the comments of a page. */
  async open(pageId) {
    this.pageId = pageId;
    this.pageForm.elements.pageId.value = pageId;
    this.root.querySelector("h2").textContent = pageId ? `Comments on ${pageId}` : "Comments";
    this.list.replaceChildren();
    this.more.hidden = true;
    if (pageId) await this.load();
  }

  async load(nextToken = null) {
    try {
      const page = await this.api.list(`/comments/${encodeURIComponent(this.pageId)}`, {
        limit: PAGE_SIZE,
        nextToken,
      });
      const items = page.items.map((comment) => this.item(comment));
      if (nextToken) this.list.append(...items);
      else this.list.replaceChildren(...items);
      if (!nextToken && items.length === 0) this.list.append(el("li", { class: "empty" }, "No comments yet."));
      this.nextToken = page.nextToken;
      this.more.hidden = !page.nextToken;
    } catch (error) {
      announceError(`Could not load comments: ${describeError(error)}`);
    }
  }

  item(comment) {
    return el(
      "li",
      { class: "comment" },
      el("p", { class: "comment-message" }, comment.message),
      el("p", { class: "meta" }, `${comment.authorName || comment.authorId} · ${formatDate(comment.createdAt)}`),
    );
  }

  async post() {
    if (!this.pageId) {
      announceError("Choose a page first (a pet's “Photos & comments”, or a Page ID).");
      return;
    }
    const message = this.form.elements.message.value;
    if (this.pending?.message !== message || this.pending?.pageId !== this.pageId) {
      this.pending = { message, pageId: this.pageId, key: randomId() };
    }
    await this.api.request("POST", "/comments", {
      body: { pageId: this.pageId, message },
      idempotencyKey: this.pending.key,
    });
    this.pending = null;
    this.form.reset();
    announce(`Comment posted on ${this.pageId}.`);
    await this.load();
  }
}
