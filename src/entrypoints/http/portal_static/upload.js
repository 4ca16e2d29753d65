// A poster, as the README's upload section does it, from the browser: the file's SHA-256,
// a grant (POST /api/movies/get_upload_url/), the bytes straight to storage with the
// signed headers (PUT) or form fields (POST), then the movie's imagePath (PATCH), which is
// where the service checks that the file really is an image. Every refusal comes back as
// an UploadError whose message is in plain words.

import { ApiError, patch, post, retryWords } from "./api.js";

const TYPES = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif" };

export class UploadError extends Error {}

function contentTypeOf(file) {
  if (file.type) return file.type;
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  return TYPES[extension] || "application/octet-stream";
}

// Hex SHA-256 of the file, or null where the browser offers no Web Crypto (a page not
// served over HTTPS or from localhost): the upload then goes without deduplication.
export async function sha256Hex(file) {
  if (!globalThis.crypto || !crypto.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function refusal(error, what) {
  if (!(error instanceof ApiError)) return error;
  if (error.status === 429) {
    // "Upload limit reached: 10 upload URLs per hour. Try again later." and when, exactly
    const said = error.message.replace(/\s*Try again later\.?$/, "");
    return new UploadError(`${said} ${retryWords(error.retryAfter)}`);
  }
  if (error.status === 503) {
    return new UploadError(`The image storage is unavailable right now. ${retryWords(error.retryAfter)}`);
  }
  return new UploadError(`${what}: ${error.message}`);
}

// Send the bytes where the grant says; ``onProgress(fraction)`` as they go.
function send(grant, file, contentType, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(grant.method, grant.upload_url);
    let body = file;
    if (grant.method === "POST") {
      body = new FormData();
      for (const [name, value] of Object.entries(grant.fields)) body.append(name, value);
      body.append("file", file);
    } else {
      for (const [name, value] of Object.entries(grant.headers)) xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new UploadError(`The storage refused the file: ${storageMessage(xhr)}`));
      }
    });
    xhr.addEventListener("error", () =>
      reject(
        new UploadError(
          "The file could not be sent to the storage (the connection failed, or the storage does " +
            "not accept uploads from this page: see the README's CORS setup).",
        ),
      ),
    );
    xhr.send(body);
  });
}

// What a storage said when it refused: our local storage's {"detail"}, S3's <Message>.
function storageMessage(xhr) {
  const text = xhr.responseText || "";
  try {
    const detail = JSON.parse(text).detail;
    if (detail) return String(detail);
  } catch (error) {
    // not JSON: S3 answers XML
  }
  const match = text.match(/<Message>([^<]*)<\/Message>/);
  return match ? match[1] : `HTTP ${xhr.status}`;
}

// Upload ``file`` as the poster of movie ``movieId``: the movie, changed. ``status(words)``
// and ``progress(fraction)`` tell how it goes.
export async function uploadPoster(movieId, file, { status, progress }) {
  const contentType = contentTypeOf(file);
  status("Computing the file's fingerprint (SHA-256)…");
  const hash = await sha256Hex(file);
  status("Asking for an upload URL…");
  const request = { filename: file.name, contentType, fileSize: file.size };
  if (hash) request.fileHash = hash;
  let grant;
  try {
    grant = await post("/api/movies/get_upload_url/", request);
  } catch (error) {
    throw refusal(error, "This file cannot be uploaded");
  }
  let uploaded = "Uploaded";
  if (grant.deduplicated) {
    uploaded = "Already uploaded: the same file is stored already, so it was not sent again";
    progress(1);
  } else {
    status("Uploading…");
    await send(grant, file, contentType, progress);
  }
  status("Checking the image and setting it as the poster…");
  let movie;
  try {
    movie = await patch(`/api/movies/${movieId}/`, { imagePath: grant.public_url });
  } catch (error) {
    throw refusal(error, "The file was refused");
  }
  status(`${uploaded}. The poster is set.`);
  return movie;
}
