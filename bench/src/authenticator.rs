//! A minimal software passkey (ES256, attestation `none`, user present and verified, a signature
//! counter) for the round-trip count: enough to walk the passkey routes on the DynamoDB adapter.
//! The contract tests check the ceremonies with an independent authenticator (tests/interop);
//! this one only has to be accepted.

use anyhow::{Context, anyhow};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// One resident credential.
pub struct Passkey {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    user_handle: String,
    counter: u32,
}

/// CBOR (RFC 8949) heads and items, as much as attestation objects and COSE keys take.
fn head(major: u8, length: usize, out: &mut Vec<u8>) {
    match length {
        0..=23 => out.push(major << 5 | length as u8),
        24..=0xff => out.extend([major << 5 | 24, length as u8]),
        _ => {
            out.push(major << 5 | 25);
            out.extend((length as u16).to_be_bytes());
        }
    }
}

fn bytes(value: &[u8], out: &mut Vec<u8>) {
    head(2, value.len(), out);
    out.extend_from_slice(value);
}

fn text(value: &str, out: &mut Vec<u8>) {
    head(3, value.len(), out);
    out.extend_from_slice(value.as_bytes());
}

fn int(value: i64, out: &mut Vec<u8>) {
    if value >= 0 {
        head(0, value as usize, out);
    } else {
        head(1, (-1 - value) as usize, out);
    }
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn client_data(kind: &str, options: &Value, origin: &str) -> anyhow::Result<Vec<u8>> {
    let challenge = options["challenge"]
        .as_str()
        .context("options without a challenge")?;
    Ok(
        json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
            .to_string()
            .into_bytes(),
    )
}

/// User present, user verified (and attested credential data with a registration).
const FLAGS: u8 = 0x01 | 0x04;
const ATTESTED: u8 = 0x40;

impl Passkey {
    /// Answers `navigator.credentials.create()`'s options (their `publicKey`) as
    /// RegistrationResponseJSON, for `origin`.
    pub fn create(options: &Value, origin: &str) -> anyhow::Result<(Self, Value)> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| anyhow!("P-256 key generation failed"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
            .map_err(|_| anyhow!("P-256 key parse failed"))?;
        let credential_id = uuid::Uuid::new_v4().as_bytes().to_vec();
        let rp_id = options["rp"]["id"].as_str().context("options without rp.id")?;
        let user_handle = options["user"]["id"]
            .as_str()
            .context("options without user.id")?;
        // An uncompressed point: 0x04 ‖ x ‖ y.
        let point = key.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        let mut cose = Vec::new();
        head(5, 5, &mut cose);
        for (label, value) in [(1, 2), (3, -7), (-1, 1)] {
            int(label, &mut cose);
            int(value, &mut cose);
        }
        int(-2, &mut cose);
        bytes(x, &mut cose);
        int(-3, &mut cose);
        bytes(y, &mut cose);
        let mut auth_data = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        auth_data.push(FLAGS | ATTESTED);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend((credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&credential_id);
        auth_data.extend(cose);
        let mut attestation = Vec::new();
        head(5, 3, &mut attestation);
        text("fmt", &mut attestation);
        text("none", &mut attestation);
        text("attStmt", &mut attestation);
        head(5, 0, &mut attestation);
        text("authData", &mut attestation);
        bytes(&auth_data, &mut attestation);
        let answer = json!({
            "id": b64(&credential_id),
            "rawId": b64(&credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data("webauthn.create", options, origin)?),
                "attestationObject": b64(&attestation),
            },
            "clientExtensionResults": {},
        });
        let passkey = Self {
            key,
            credential_id,
            user_handle: user_handle.to_owned(),
            counter: 0,
        };
        Ok((passkey, answer))
    }

    /// Answers `navigator.credentials.get()`'s options as AuthenticationResponseJSON.
    pub fn get(&mut self, options: &Value, origin: &str) -> anyhow::Result<Value> {
        self.counter += 1;
        let rp_id = options["rpId"].as_str().context("options without rpId")?;
        let mut auth_data = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        auth_data.push(FLAGS);
        auth_data.extend(self.counter.to_be_bytes());
        let client_data = client_data("webauthn.get", options, origin)?;
        let mut signed = auth_data.clone();
        signed.extend(digest(&SHA256, &client_data).as_ref());
        let signature = self
            .key
            .sign(&SystemRandom::new(), &signed)
            .map_err(|_| anyhow!("signing failed"))?;
        Ok(json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.as_ref()),
                "userHandle": self.user_handle,
            },
            "clientExtensionResults": {},
        }))
    }
}
