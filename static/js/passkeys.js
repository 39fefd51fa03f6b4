// Passkeys (WebAuthn) for forms marked data-passkey="register" or "signin": the server's JSON
// options (a <script type="application/json">, not executed) become what navigator.credentials
// wants, and the browser's answer goes back as JSON in the form's "credential" field.
// A file, not inline script: the Content-Security-Policy is script-src 'self'.
(function () {
  "use strict";

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: fromB64url(c.id) }); });
  }

  // The credential as the server's JSON expects it: the fields every credential has, plus the
  // response fields of a registration or a sign-in.
  function asJson(cred, response) {
    return {
      id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: Object.assign({ clientDataJSON: toB64url(cred.response.clientDataJSON) }, response)
    };
  }

  function create(options) {
    options.challenge = fromB64url(options.challenge);
    options.user.id = fromB64url(options.user.id);
    options.excludeCredentials = withIds(options.excludeCredentials);
    return navigator.credentials.create({ publicKey: options }).then(function (cred) {
      var r = cred.response;
      return asJson(cred, {
        attestationObject: toB64url(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : []
      });
    });
  }

  function get(options) {
    options.challenge = fromB64url(options.challenge);
    options.allowCredentials = withIds(options.allowCredentials);
    return navigator.credentials.get({ publicKey: options }).then(function (cred) {
      var r = cred.response;
      return asJson(cred, {
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null
      });
    });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var error = form.querySelector("[data-passkey-error]");
    function fail(text) {
      if (error) { error.textContent = text; error.hidden = false; }
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      fail(window.helpdeskText("passkeys.unsupported", "This browser cannot use passkeys."));
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var source = document.getElementById(form.dataset.passkeyOptions);
      var options = JSON.parse(source.textContent);
      var ceremony = form.dataset.passkey === "register" ? create(options) : get(options);
      ceremony.then(function (answer) {
        form.querySelector("input[name=credential]").value = JSON.stringify(answer);
        form.submit();
      }).catch(function (reason) {
        fail(window.helpdeskText("passkeys.failed", "The passkey was not used ({reason}). Try again.", { reason: reason && reason.name ? reason.name : "error" }));
      });
    });
  });
})();
