// The hosted sign-in page's passkey button (docs/API.md, "Sign-in for other apps"): runs the
// ceremony of passkey-login-options through navigator.credentials and posts the assertion with the
// page's form (its CSRF token and the authorization request) to /oauth2/signin. Everything else
// on the page works without this script.
(function () {
  "use strict";
  var button = document.getElementById("passkey-signin");
  if (!button || !window.PublicKeyCredential || !navigator.credentials) {
    return;
  }
  var form = document.getElementById("passkey-form");
  var problem = document.getElementById("passkey-error");

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  button.hidden = false;
  button.addEventListener("click", async function () {
    problem.hidden = true;
    button.disabled = true;
    try {
      var answer = await fetch(button.dataset.options, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
        credentials: "omit",
      });
      if (!answer.ok) {
        throw new Error("options: " + answer.status);
      }
      var options = await answer.json();
      var publicKey = options.publicKey;
      publicKey.challenge = toBytes(publicKey.challenge);
      (publicKey.allowCredentials || []).forEach(function (c) {
        c.id = toBytes(c.id);
      });
      var credential = await navigator.credentials.get({ publicKey: publicKey });
      var response = credential.response;
      var json = {
        id: credential.id,
        rawId: toBase64url(credential.rawId),
        type: credential.type,
        response: {
          clientDataJSON: toBase64url(response.clientDataJSON),
          authenticatorData: toBase64url(response.authenticatorData),
          signature: toBase64url(response.signature),
          userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
        },
        clientExtensionResults: credential.getClientExtensionResults(),
        authenticatorAttachment: credential.authenticatorAttachment || null,
      };
      document.getElementById("challenge_token").value = options.challenge_token;
      document.getElementById("credential").value = JSON.stringify(json);
      form.submit();
    } catch (e) {
      problem.textContent = "The passkey sign-in did not complete. Try again, or sign in with your password.";
      problem.hidden = false;
      button.disabled = false;
    }
  });
})();
