// The admin portal: sign in, then movies (with posters and their ratings) and users, every
// read and change through the public API with the signed-in admin's token. Which user is
// an admin is the API's to say (GET /api/users/me/), and each request is checked there.

import { ApiError, del, get, patch, post, query, setToken } from "./api.js";
import { $, clearErrors, h, openDialog, showErrors, showPage, wireDialogs } from "./dom.js";
import { uploadPoster } from "./upload.js";

const PAGE = 20;
const state = {
  me: null,
  movies: { offset: 0, search: "", ordering: "id" },
  users: { offset: 0, search: "" },
  ratings: { movie: null, offset: 0, names: new Map() },
  editing: null, // the movie the movie dialog edits (null: a new one)
  confirm: null, // what the confirmation dialog's "yes" does
  passwordFor: null,
};

function flash(words) {
  $("flash").textContent = words;
}

function fail(error) {
  flash(error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`);
}

// ---- screens -----------------------------------------------------------------------------

function show(screen) {
  for (const id of ["sign-in-screen", "refusal-screen", "admin-screen"]) $(id).hidden = id !== screen;
  $("who").hidden = screen === "sign-in-screen";
}

function showSignIn() {
  state.me = null;
  setToken(null);
  $("sign-in-form").reset();
  clearErrors($("sign-in-form"));
  show("sign-in-screen");
  $("sign-in-username").focus();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const username = form.elements.username.value;
  const password = form.elements.password.value;
  try {
    const { token } = await post("/auth/", { username, password });
    setToken(token);
    state.me = await get("/api/users/me/");
  } catch (error) {
    setToken(null);
    if (error instanceof ApiError && error.status === 429) {
      showErrors(form, { non_field_errors: [error.message] });
    } else if (error instanceof ApiError) {
      showErrors(form, error.fields);
    } else {
      showErrors(form, { non_field_errors: [String(error.message)] });
    }
    return;
  }
  form.reset();
  $("who-name").textContent = `Signed in as ${state.me.username}`;
  if (!state.me.is_admin) {
    $("refusal-text").textContent =
      `${state.me.username} is not an admin: this portal is for admins only. ` +
      "Sign out, then sign in as an admin.";
    show("refusal-screen");
    $("sign-out").focus();
    return;
  }
  show("admin-screen");
  selectTab("movies");
}

async function signOut() {
  try {
    await del("/auth/"); // revokes the token
  } catch (error) {
    // already revoked or expired: signed out all the same
  }
  flash("");
  showSignIn();
}

function selectTab(name) {
  for (const tab of ["movies", "users"]) {
    const selected = tab === name;
    $(`${tab}-section`).hidden = !selected;
    const button = $(`tab-${tab}`);
    if (selected) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  flash("");
  if (name === "movies") loadMovies();
  else loadUsers();
}

// ---- movies ------------------------------------------------------------------------------

async function loadMovies() {
  const { offset, search, ordering } = state.movies;
  let page;
  try {
    page = await get(`/api/movies/${query({ search, ordering, limit: PAGE, offset })}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) showErrors($("movies-query"), error.fields);
    else fail(error);
    return;
  }
  if (page.results.length === 0 && offset > 0) {
    state.movies.offset = Math.max(0, offset - PAGE); // the last page emptied: the one before
    loadMovies();
    return;
  }
  $("movies-rows").replaceChildren(...page.results.map(movieRow));
  showPage($("movies-page-label"), $("movies-caption"), $("movies-pager"), {
    offset,
    limit: PAGE,
    count: page.count,
    what: "movies",
  });
}

function poster(movie) {
  if (!movie.imagePath) return h("span", { class: "no-poster" }, "No poster");
  return h("img", { class: "thumb", src: movie.imagePath, alt: `Poster of ${movie.title}` });
}

function movieRow(movie) {
  const status = h("p", { class: "upload-status", role: "status", "aria-live": "polite" });
  const bar = h("progress", { max: "1", value: "0", hidden: true, "aria-label": `Upload of ${movie.title}'s poster` });
  const picker = h("input", {
    type: "file",
    accept: "image/png,image/jpeg,image/webp,image/gif",
    class: "visually-hidden",
    tabindex: "-1",
    "aria-hidden": "true",
  });
  const frame = h("div", { class: "poster-frame" }, poster(movie));
  const cell = h(
    "td",
    { class: "drop", dataset: { movie: String(movie.id) } },
    frame,
    h("button", { type: "button", class: "small", onclick: () => picker.click() }, "Choose file…"),
    picker,
    bar,
    status,
  );
  const start = async (file) => {
    if (!file) return;
    cell.classList.remove("over");
    bar.hidden = false;
    bar.value = 0;
    status.classList.remove("bad");
    try {
      const changed = await uploadPoster(movie.id, file, {
        status: (words) => {
          status.textContent = words;
        },
        progress: (fraction) => {
          bar.value = fraction;
        },
      });
      Object.assign(movie, changed);
      frame.replaceChildren(poster(movie));
    } catch (error) {
      status.classList.add("bad");
      status.textContent = error.message;
    } finally {
      bar.hidden = true;
      picker.value = "";
    }
  };
  picker.addEventListener("change", () => start(picker.files[0]));
  cell.addEventListener("dragover", (event) => {
    event.preventDefault();
    cell.classList.add("over");
  });
  cell.addEventListener("dragleave", () => cell.classList.remove("over"));
  cell.addEventListener("drop", (event) => {
    event.preventDefault();
    start(event.dataTransfer.files[0]);
  });
  const average = movie.no_of_ratings ? ` (average ${Number(movie.ave_ratings).toFixed(1)})` : "";
  return h(
    "tr",
    { dataset: { movie: String(movie.id) } },
    cell,
    h("td", {}, h("strong", {}, movie.title), h("p", { class: "description" }, movie.description)),
    h("td", {}, `${movie.no_of_ratings}${average}`),
    h(
      "td",
      { class: "actions" },
      h("button", { type: "button", onclick: () => editMovie(movie) }, "Edit"),
      h("button", { type: "button", onclick: () => showRatings(movie) }, "Ratings"),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: () =>
            confirmThen(`Delete the movie “${movie.title}” and its ratings?`, "Delete movie", async () => {
              await del(`/api/movies/${movie.id}/`);
              flash(`The movie “${movie.title}” was deleted.`);
              loadMovies();
            }),
        },
        "Delete",
      ),
    ),
  );
}

function editMovie(movie) {
  state.editing = movie;
  const form = $("movie-form");
  form.reset();
  $("movie-dialog-title").textContent = movie ? `Edit “${movie.title}”` : "New movie";
  if (movie) {
    form.elements.title.value = movie.title;
    form.elements.description.value = movie.description;
    form.elements.imagePath.value = movie.imagePath || "";
  }
  openDialog($("movie-dialog"));
  form.elements.title.focus();
}

async function saveMovie(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const body = {
    title: form.elements.title.value,
    description: form.elements.description.value,
    imagePath: form.elements.imagePath.value.trim() || null,
  };
  const movie = state.editing;
  try {
    const saved = movie ? await patch(`/api/movies/${movie.id}/`, body) : await post("/api/movies/", body);
    $("movie-dialog").close();
    flash(movie ? `The movie “${saved.title}” was saved.` : `The movie “${saved.title}” was created.`);
    loadMovies();
  } catch (error) {
    if (error instanceof ApiError) showErrors(form, error.fields);
    else showErrors(form, { non_field_errors: [error.message] });
  }
}

// ---- ratings (moderation) ------------------------------------------------------------------

async function showRatings(movie) {
  state.ratings.movie = movie;
  state.ratings.offset = 0;
  $("ratings-title").textContent = `Ratings of “${movie.title}”`;
  $("ratings-status").textContent = "";
  $("ratings-rows").replaceChildren();
  openDialog($("ratings-dialog"));
  await loadRatings();
  $("ratings-dialog").querySelector("[data-close]").focus();
}

async function userName(id) {
  const names = state.ratings.names;
  if (!names.has(id)) {
    try {
      names.set(id, (await get(`/api/users/${id}/`)).username);
    } catch (error) {
      return `user ${id}`;
    }
  }
  return names.get(id);
}

async function loadRatings() {
  const { movie, offset } = state.ratings;
  let page;
  try {
    page = await get(`/api/ratings/${query({ movie: movie.id, limit: PAGE, offset })}`);
  } catch (error) {
    $("ratings-status").textContent = error.message;
    return;
  }
  const rows = await Promise.all(
    page.results.map(async (rating) => {
      const name = await userName(rating.user);
      return h(
        "tr",
        { dataset: { rating: String(rating.id) } },
        h("td", {}, name),
        h("td", {}, `${"★".repeat(rating.stars)}${"☆".repeat(5 - rating.stars)} (${rating.stars})`),
        h(
          "td",
          {},
          h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: () =>
                confirmThen(`Delete ${name}'s rating of “${movie.title}”?`, "Delete rating", async () => {
                  await del(`/api/ratings/${rating.id}/`);
                  $("ratings-status").textContent = `${name}'s rating was deleted.`;
                  await loadRatings();
                  loadMovies();
                }),
            },
            "Delete",
          ),
        ),
      );
    }),
  );
  $("ratings-rows").replaceChildren(...rows);
  showPage($("ratings-page-label"), $("ratings-caption"), $("ratings-pager"), {
    offset,
    limit: PAGE,
    count: page.count,
    what: "ratings",
  });
}

// ---- users ---------------------------------------------------------------------------------

async function loadUsers() {
  const { offset, search } = state.users;
  let page;
  try {
    page = await get(`/api/users/${query({ search, include: "is_admin", limit: PAGE, offset })}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) showErrors($("users-query"), error.fields);
    else fail(error);
    return;
  }
  if (page.results.length === 0 && offset > 0) {
    state.users.offset = Math.max(0, offset - PAGE);
    loadUsers();
    return;
  }
  $("users-rows").replaceChildren(...page.results.map(userRow));
  showPage($("users-page-label"), $("users-caption"), $("users-pager"), {
    offset,
    limit: PAGE,
    count: page.count,
    what: "users",
  });
}

function userRow(user) {
  const you = user.id === state.me.id;
  const role = async (verb) => {
    try {
      const changed = await post(`/api/users/${user.id}/${verb}/`);
      flash(`${changed.username} is now ${changed.is_admin ? "an admin" : "a plain user"}.`);
      if (you && !changed.is_admin) {
        state.me.is_admin = false;
        $("refusal-text").textContent = `${changed.username} is not an admin any more. Sign out.`;
        show("refusal-screen");
        return;
      }
      loadUsers();
    } catch (error) {
      fail(error);
    }
  };
  return h(
    "tr",
    { dataset: { user: String(user.id) } },
    h("td", {}, String(user.id)),
    h("td", {}, user.username, you ? h("span", { class: "you" }, " (you)") : null),
    h("td", {}, user.is_admin ? "Admin" : "User"),
    h(
      "td",
      { class: "actions" },
      user.is_admin
        ? h("button", { type: "button", onclick: () => role("demote") }, "Demote")
        : h("button", { type: "button", onclick: () => role("promote") }, "Promote"),
      h("button", { type: "button", onclick: () => askPassword(user) }, "Set password"),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: () =>
            confirmThen(
              `Delete the user ${user.username}, with their ratings?`,
              "Delete user",
              async () => {
                await del(`/api/users/${user.id}/`);
                if (you) {
                  showSignIn(); // their token went with them
                  return;
                }
                flash(`The user ${user.username} was deleted.`);
                loadUsers();
              },
            ),
        },
        "Delete",
      ),
    ),
  );
}

function askPassword(user) {
  state.passwordFor = user;
  $("password-title").textContent = `Set ${user.username}'s password`;
  $("password-form").reset();
  openDialog($("password-dialog"));
  $("new-password").focus();
}

async function setPassword(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const user = state.passwordFor;
  try {
    await patch(`/api/users/${user.id}/`, { password: form.elements.password.value });
    $("password-dialog").close();
    flash(`${user.username}'s password was set; they are signed out everywhere else.`);
  } catch (error) {
    if (error instanceof ApiError) showErrors(form, error.fields);
    else showErrors(form, { non_field_errors: [error.message] });
  }
}

// ---- confirmation --------------------------------------------------------------------------

function confirmThen(question, yes, action) {
  state.confirm = action;
  $("confirm-text").textContent = question;
  $("confirm-yes").textContent = yes;
  openDialog($("confirm-dialog"));
  $("confirm-dialog").querySelector("[data-close]").focus(); // the safe choice first
}

async function confirmed(event) {
  event.preventDefault();
  const form = event.currentTarget;
  try {
    await state.confirm();
    $("confirm-dialog").close();
  } catch (error) {
    showErrors(form, error instanceof ApiError ? error.fields : { non_field_errors: [error.message] });
  }
}

// ---- wiring --------------------------------------------------------------------------------

function pager(id, list, load) {
  $(id).addEventListener("click", (event) => {
    const button = event.target.closest("[data-page]");
    if (!button) return;
    list.offset = Math.max(0, list.offset + (button.dataset.page === "next" ? PAGE : -PAGE));
    load();
  });
}

function start() {
  wireDialogs();
  // A file dropped beside a movie's poster is not opened in place of the portal.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => event.preventDefault());
  }
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("tab-movies").addEventListener("click", () => selectTab("movies"));
  $("tab-users").addEventListener("click", () => selectTab("users"));
  $("movies-query").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    flash("");
    Object.assign(state.movies, {
      offset: 0,
      search: $("movies-search").value,
      ordering: $("movies-ordering").value,
    });
    loadMovies();
  });
  $("movies-ordering").addEventListener("change", () => $("movies-query").requestSubmit());
  $("users-query").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    flash("");
    Object.assign(state.users, { offset: 0, search: $("users-search").value });
    loadUsers();
  });
  $("new-movie").addEventListener("click", () => editMovie(null));
  $("movie-form").addEventListener("submit", saveMovie);
  $("password-form").addEventListener("submit", setPassword);
  $("confirm-form").addEventListener("submit", confirmed);
  pager("movies-pager", state.movies, loadMovies);
  pager("users-pager", state.users, loadUsers);
  pager("ratings-pager", state.ratings, loadRatings);
  showSignIn();
}

start();
