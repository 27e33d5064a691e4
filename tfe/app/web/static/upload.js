/* Upload page (/deposer): drag and drop or pick files; each one is sent to POST /api/documents with the
 * session cookie and the X-CSRF-Token header, with its own progress bar and outcome (ok, duplicate,
 * failed with the reason in French). Without JavaScript the form posts to /deposer instead. */
(function () {
  "use strict";

  var REASONS = {
    unsupported: "Type de fichier ou contenu non accepté",
    too_large: "Fichier trop volumineux",
    extraction_failed: "Contenu illisible (fichier corrompu, chiffré ou sans texte)",
    forbidden: "Dépôt refusé (droits insuffisants ou session expirée : rechargez la page)",
    unauthenticated: "Session expirée : reconnectez-vous",
    invalid: "Requête invalide",
    backend_unavailable: "Service momentanément indisponible : réessayez plus tard",
    internal: "Erreur interne du serveur"
  };

  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var csrf = form.getAttribute("data-csrf");
  var limit = parseInt(form.getAttribute("data-limit"), 10) || 0;
  var input = document.getElementById("files");
  var zone = document.getElementById("dropzone");
  var list = document.getElementById("upload-list");
  var heading = document.getElementById("outcomes-title");
  var queue = [];
  var busy = false;

  form.classList.add("js-upload");
  document.getElementById("upload-submit").hidden = true;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function sizeFr(bytes) {
    if (bytes < 1024) { return bytes + " o"; }
    if (bytes < 1024 * 1024) { return (bytes / 1024).toFixed(1).replace(".", ",") + " Ko"; }
    return (bytes / 1024 / 1024).toFixed(1).replace(".", ",") + " Mo";
  }

  function row(file) {
    var li = el("li", "upload-item upload-pending");
    li.appendChild(el("span", "upload-name", file.name));
    var bar = el("progress", "upload-progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Envoi de " + file.name);
    li.appendChild(bar);
    var status = el("span", "upload-status", "En attente");
    li.appendChild(status);
    heading.hidden = false;
    list.appendChild(li);
    return { li: li, bar: bar, status: status };
  }

  function finish(r, kind, label, link, detail) {
    r.li.className = "upload-item upload-" + kind;
    r.bar.remove();
    r.status.textContent = label;
    if (link) {
      var a = el("a", "", link.text);
      a.href = link.href;
      r.status.appendChild(a);
    }
    if (detail) { r.status.appendChild(el("span", "muted small upload-detail", " (" + detail + ")")); }
  }

  function similar(r, items) {
    // near-duplicates among what the uploader may see: « ressemble à 92 % à « Titre » » (never merged)
    items.forEach(function (s) {
      var line = el("span", "upload-similar", "Ressemble à " + Math.round(s.score * 100) + " % à ");
      var a = el("a", "", "« " + s.title + " »");
      a.href = "/documents/" + encodeURIComponent(s.id);
      line.appendChild(a);
      r.status.appendChild(line);
    });
  }

  function outcome(r, file, xhr) {
    var body = null;
    try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
    if ((xhr.status === 201 || xhr.status === 200) && body && body.id) {
      var href = "/documents/" + encodeURIComponent(body.id);
      if (body.status === "duplicate") {
        finish(r, "duplicate", "Déjà présent (même contenu) : ", { href: href, text: "voir le document existant" });
      } else {
        finish(r, "ok", "Ajouté : ", { href: href, text: body.title || file.name });
        similar(r, body.similar || []);
      }
      return;
    }
    var error = body && body.error ? body.error : { code: "internal", message: "" };
    var reason = REASONS[error.code] || ("Erreur " + xhr.status);
    finish(r, "failed", "Échec : " + reason, null, error.message);
  }

  function send(item) {
    var r = item.row;
    var file = item.file;
    if (limit && file.size > limit) {
      finish(r, "failed", "Échec : " + REASONS.too_large + " (" + sizeFr(file.size) + ", limite " + sizeFr(limit) + ")");
      next();
      return;
    }
    var data = new FormData();
    data.append("file", file, file.name);
    data.append("visibility", form.elements.visibility.value);
    if (form.elements.doc_type.value) { data.append("doc_type", form.elements.doc_type.value); }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/documents");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    r.status.textContent = "Envoi…";
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { r.bar.value = Math.round((e.loaded / e.total) * 100); }
    };
    xhr.upload.onload = function () {
      r.bar.value = 100;
      r.status.textContent = "Analyse et indexation…";
    };
    xhr.onload = function () { outcome(r, file, xhr); next(); };
    xhr.onerror = function () {
      finish(r, "failed", "Échec : erreur réseau, le fichier n'a pas été envoyé");
      next();
    };
    xhr.send(data);
  }

  function next() {
    busy = queue.length > 0;
    if (busy) { send(queue.shift()); }
  }

  function add(files) {
    for (var i = 0; i < files.length; i++) { queue.push({ file: files[i], row: row(files[i]) }); }
    if (!busy) { next(); }
  }

  input.addEventListener("change", function () {
    add(input.files);
    input.value = "";
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (input.files && input.files.length) { add(input.files); input.value = ""; }
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("dragover"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("dragover"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) { add(e.dataTransfer.files); }
  });
}());
