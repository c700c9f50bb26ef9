// The comments on a pet's page, newest first, with "Older comments" following nextToken. Signed-in
// users post (an Idempotency-Key, kept until the post succeeds, so retrying after a lost answer
// cannot post twice); signed-out visitors get "Sign in to comment" instead of a form that fails.
// Authors delete their own comments, staff any (the API allows exactly that).

import { ApiError, describeError } from "./api.js";
import { busy, confirmAction, el, FormFeedback, formatDate, randomId } from "./ui.js";

const PAGE_SIZE = 10;

export class Comments {
  constructor(root, api, auth) {
    this.root = root;
    this.api = api;
    this.auth = auth;
    this.list = root.querySelector("#comment-list");
    this.more = root.querySelector("#comments-more");
    this.error = root.querySelector('[data-list-error="comments"]');
    this.form = root.querySelector("#comment-form");
    this.signIn = root.querySelector("#comment-sign-in");
    this.feedback = new FormFeedback(this.form);
    this.pet = null;
    this.nextToken = null;
    this.pending = null; // {message, petId, key} of a post not yet acknowledged
    this.more.addEventListener("click", () => busy(this.more, () => this.load(this.nextToken)));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(event.submitter, () => this.post());
    });
  }

  /** Shows the comments of a pet, and the form or the sign-in prompt. */
  async open(pet) {
    this.pet = pet;
    this.form.reset();
    this.feedback.clear();
    this.list.replaceChildren();
    this.more.hidden = true;
    this.showForm();
    await this.load();
  }

  close() {
    this.pet = null;
  }

  /** The form for signed-in users, the prompt for everyone else. */
  showForm() {
    this.form.hidden = !this.auth.signedIn;
    this.signIn.hidden = this.auth.signedIn;
  }

  async load(nextToken = null) {
    const pet = this.pet;
    if (!pet) return;
    this.error.textContent = "";
    try {
      const page = await this.api.list(`/comments/${encodeURIComponent(pet.id)}`, { limit: PAGE_SIZE, nextToken });
      if (this.pet !== pet) return;
      const items = page.items.map((comment) => this.item(comment));
      if (nextToken) this.list.append(...items);
      else this.list.replaceChildren(...items);
      if (!nextToken && items.length === 0) this.list.append(el("li", { class: "empty" }, "No comments yet."));
      this.nextToken = page.nextToken;
      this.more.hidden = !page.nextToken;
    } catch (error) {
      this.error.textContent = `The comments could not be shown: ${describeError(error)}`;
    }
  }

  canDelete(comment) {
    return this.auth.signedIn && (this.auth.isStaff || comment.authorId === this.auth.userId);
  }

  item(comment) {
    const author = comment.authorName || "Customer";
    return el(
      "li",
      { class: "comment", dataset: { commentId: comment.commentId } },
      el("p", { class: "comment-message" }, comment.message),
      el(
        "p",
        { class: "meta" },
        el("span", { class: "author" }, author),
        ` · ${formatDate(comment.createdAt)}`,
        this.canDelete(comment)
          ? el(
              "button",
              { type: "button", class: "link-button danger-text", "aria-label": `Delete the comment by ${author}`, onclick: () => this.remove(comment, author) },
              "Delete",
            )
          : null,
      ),
    );
  }

  async remove(comment, author) {
    const pet = this.pet;
    const own = comment.authorId === this.auth.userId;
    const done = await confirmAction({
      title: own ? "Delete your comment?" : `Delete ${author}’s comment?`,
      text: `“${comment.message.slice(0, 120)}${comment.message.length > 120 ? "…" : ""}” goes from ${pet.name}’s page for good.`,
      describe: describeError,
      run: async () => {
        try {
          await this.api.request("DELETE", `/comments/${encodeURIComponent(pet.id)}/${encodeURIComponent(comment.commentId)}`);
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error; // gone already
        }
      },
    });
    if (!done) return;
    this.feedback.ok("Comment deleted.");
    await this.load();
  }

  async post() {
    const pet = this.pet;
    const message = this.form.elements.message.value;
    this.feedback.clear();
    if (this.pending?.message !== message || this.pending?.petId !== pet.id) {
      this.pending = { message, petId: pet.id, key: randomId() };
    }
    try {
      this.feedback.progress("Posting…");
      await this.api.request("POST", "/comments", {
        body: { pageId: pet.id, message },
        idempotencyKey: this.pending.key,
      });
    } catch (error) {
      this.feedback.apiError(error, describeError);
      return;
    }
    this.pending = null;
    this.form.reset();
    this.feedback.ok("Your comment is posted.");
    await this.load();
  }
}
