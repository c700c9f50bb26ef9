// Signing in and up, confirming a new account, and the display name.
//
// Confirming a sign-up signs the new user in (the password is kept in memory between the two
// forms, never stored): locally with the config's `localConfirmUrl` (no email there), on AWS with
// the code Cognito emails. The first sign-in asks for a display name (GET /me is a 404 until one
// is saved with PUT /me); it is shown on the user's comments.

import { describeError } from "./api.js";
import { busy, FormFeedback } from "./ui.js";

/** Cognito's error codes -> [the field to mark, or null, and words for people]. */
const COGNITO_ERRORS = {
  NotAuthorizedException: ["password", "Incorrect email or password."],
  UserNotFoundException: ["password", "Incorrect email or password."],
  UsernameExistsException: ["email", "There is already an account with this email: sign in instead."],
  InvalidPasswordException: ["password", "Use at least 8 characters, with upper case, lower case and a digit."],
  InvalidParameterException: [null, null],
  CodeMismatchException: ["code", "That code is not right: check the email and try again."],
  ExpiredCodeException: ["code", "That code has expired: sign up again for a new one."],
  LimitExceededException: [null, "Too many attempts: wait a little, then try again."],
  TooManyRequestsException: [null, "Too many attempts: wait a little, then try again."],
};

function showAuthError(feedback, form, error) {
  const [field, words] = COGNITO_ERRORS[error.code] ?? [null, null];
  const input = field ? form.elements[field] : null;
  if (input) {
    feedback.markInvalid(input, words);
    input.focus();
  }
  feedback.error(words ?? describeError(error));
}

export class Account {
  /**
   * @param {HTMLElement} root the account screen
   * @param {HTMLElement} profileRoot the display-name screen
   * @param {object} options
   * @param {import("./auth.js").Auth} options.auth
   * @param {import("./api.js").StoreApi} options.api
   * @param {() => Promise<void>} options.signedIn runs once someone has signed in (and named)
   * @param {(name: string, first: boolean) => void} options.named runs once a name is saved
   */
  constructor(root, profileRoot, { auth, api, signedIn, named }) {
    Object.assign(this, { auth, api, signedIn, named });
    this.signInForm = root.querySelector("#sign-in-form");
    this.signUpForm = root.querySelector("#sign-up-form");
    this.confirmForm = root.querySelector("#confirm-form");
    this.profileForm = profileRoot.querySelector("#profile-form");
    this.feedback = {
      signIn: new FormFeedback(this.signInForm),
      signUp: new FormFeedback(this.signUpForm),
      confirm: new FormFeedback(this.confirmForm),
      profile: new FormFeedback(this.profileForm),
    };
    this.pending = null; // {email, password} of a sign-up awaiting confirmation
    this.firstName = false; // the profile form is the first sign-in's
    this.wire();
  }

  wire() {
    const submit = (form, work) =>
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        busy(event.submitter, work);
      });
    submit(this.signInForm, () => this.signIn());
    submit(this.signUpForm, () => this.signUp());
    submit(this.confirmForm, () => this.confirm());
    submit(this.profileForm, () => this.saveName());
  }

  /** The account screen, fresh. */
  reset() {
    for (const feedback of [this.feedback.signIn, this.feedback.signUp]) feedback.clear();
  }

  async signIn() {
    const feedback = this.feedback.signIn;
    const email = this.signInForm.elements.email.value.trim();
    const password = this.signInForm.elements.password.value;
    feedback.clear();
    feedback.progress("Signing in…");
    try {
      await this.auth.signIn(email, password);
    } catch (error) {
      if (error.code === "UserNotConfirmedException") {
        this.pending = { email, password };
        this.askForConfirmation(email);
        return feedback.error("Confirm your account first (below), and you are signed in.");
      }
      return showAuthError(feedback, this.signInForm, error);
    }
    this.signInForm.reset();
    feedback.ok(`Signed in as ${email}.`);
    await this.signedIn();
  }

  async signUp() {
    const feedback = this.feedback.signUp;
    const email = this.signUpForm.elements.email.value.trim();
    const password = this.signUpForm.elements.password.value;
    feedback.clear();
    feedback.progress("Creating your account…");
    let confirmed;
    try {
      confirmed = await this.auth.signUp(email, password);
    } catch (error) {
      return showAuthError(feedback, this.signUpForm, error);
    }
    this.pending = { email, password };
    this.signUpForm.reset();
    if (confirmed) return this.signInPending(feedback);
    feedback.ok(`Account created for ${email}: confirm it below.`);
    this.askForConfirmation(email);
  }

  askForConfirmation(email) {
    const local = Boolean(this.auth.localConfirmUrl);
    this.confirmForm.hidden = false;
    this.confirmForm.dataset.email = email;
    this.confirmForm.querySelector("#confirm-code-field").hidden = local;
    this.confirmForm.elements.code.required = !local;
    this.confirmForm.querySelector("#confirm-intro").textContent = local
      ? `Confirm ${email} here: the local cloud sends no email, so this stands in for the emailed code.`
      : `Enter the code we emailed to ${email}.`;
    this.feedback.confirm.clear();
    this.confirmForm.querySelector(local ? "button" : "input").focus();
  }

  async confirm() {
    const feedback = this.feedback.confirm;
    const email = this.confirmForm.dataset.email;
    feedback.clear();
    feedback.progress("Confirming…");
    try {
      if (this.auth.localConfirmUrl) await this.auth.confirmLocally(email);
      else await this.auth.confirmWithCode(email, this.confirmForm.elements.code.value.trim());
    } catch (error) {
      return showAuthError(feedback, this.confirmForm, error);
    }
    this.confirmForm.reset();
    if (this.pending?.email === email) return this.signInPending(feedback);
    feedback.ok(`Account ${email} confirmed: sign in.`);
  }

  /** The new account's first sign-in, with the password it was created with. */
  async signInPending(feedback) {
    const { email, password } = this.pending;
    feedback.progress(`Account ${email} confirmed: signing you in…`);
    try {
      await this.auth.signIn(email, password);
    } catch (error) {
      return showAuthError(feedback, this.confirmForm, error);
    } finally {
      this.pending = null;
    }
    this.confirmForm.hidden = true;
    feedback.ok(`Account ${email} confirmed: you are signed in.`);
    await this.signedIn();
  }

  /** The display-name screen: `first` on the first sign-in (then it moves on once saved). */
  openProfile(name, first) {
    this.firstName = first;
    this.feedback.profile.clear();
    this.profileForm.elements.displayName.value = name ?? "";
    this.profileForm.querySelector("#profile-intro").textContent = first
      ? "Welcome! What should we call you? Other customers see this name on your comments."
      : "Other customers see this name on your comments.";
  }

  async saveName() {
    const feedback = this.feedback.profile;
    const displayName = this.profileForm.elements.displayName.value;
    feedback.clear();
    feedback.progress("Saving…");
    let profile;
    try {
      profile = (await this.api.request("PUT", "/me", { body: { displayName } })).body;
    } catch (error) {
      return feedback.apiError(error, describeError);
    }
    feedback.ok(`Saved: your comments show “${profile.displayName}”.`);
    this.named(profile.displayName, this.firstName);
  }
}
