//! The signature algorithms of the keys (docs/API.md, `JWT_ALGORITHM`): EdDSA (Ed25519), ES256
//! (P-256) and RS256 (RSA 2048, PKCS#1 v1.5 with SHA-256). Session keys use the configured one;
//! link keys are always EdDSA. Never HMAC.
//!
//! Each key is stored as its PKCS#8 document and named by the RFC 7638 thumbprint of its public
//! JWK. A [`KeySigner`] is the parsed private key, made once per key set load and kept: signing a
//! token never parses a key again.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::MalformedKeys;

/// A key's signature algorithm, by its JOSE name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Algorithm {
    /// Ed25519 (RFC 8037). The default, and always the link keys'.
    #[default]
    EdDSA,
    /// ECDSA on P-256 with SHA-256: what REST API JWT authorizers accept besides RS256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048-bit key: the only algorithm HTTP API JWT
    /// authorizers accept.
    RS256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];

    /// The JOSE name (`alg`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
        }
    }

    /// The algorithm named exactly `name` (as `JWT_ALGORITHM` or a token's `alg` spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// jsonwebtoken's name for it (verification goes through jsonwebtoken).
    pub fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
            Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        }
    }

    /// A fresh private key, as a PKCS#8 document.
    pub fn generate_pkcs8(self) -> Result<Vec<u8>, MalformedKeys> {
        let failed = |_| MalformedKeys(format!("{} key generation failed", self.name()));
        let rng = SystemRandom::new();
        Ok(match self {
            Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            Algorithm::ES256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            Algorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .map_err(failed)?
                .as_der()
                .map_err(failed)?
                .as_ref()
                .to_vec(),
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The public members of a key's JWK (RFC 7518 section 6, RFC 8037): `x` for Ed25519, `x` and `y`
/// for P-256, `n` and `e` for RSA; base64url without padding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

impl PublicJwk {
    /// The JWK `kty` and `crv` of `alg`'s keys (`crv` is `None` for RSA).
    pub fn kty_crv(alg: Algorithm) -> (&'static str, Option<&'static str>) {
        match alg {
            Algorithm::EdDSA => ("OKP", Some("Ed25519")),
            Algorithm::ES256 => ("EC", Some("P-256")),
            Algorithm::RS256 => ("RSA", None),
        }
    }

    /// The RFC 7638 thumbprint: the required members in lexicographic order, hashed with SHA-256.
    /// Every key's `kid`.
    pub fn thumbprint(&self, alg: Algorithm) -> Result<String, MalformedKeys> {
        fn member<'a>(
            value: &'a Option<String>,
            name: &str,
            alg: Algorithm,
        ) -> Result<&'a str, MalformedKeys> {
            value
                .as_deref()
                .ok_or_else(|| MalformedKeys(format!("{alg} public key without `{name}`")))
        }
        let member = |value, name| member(value, name, alg);
        let canonical = match alg {
            Algorithm::EdDSA => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                member(&self.x, "x")?
            ),
            Algorithm::ES256 => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                member(&self.x, "x")?,
                member(&self.y, "y")?
            ),
            Algorithm::RS256 => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                member(&self.e, "e")?,
                member(&self.n, "n")?
            ),
        };
        Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
    }

    /// The key that verifies `alg` signatures, checked for shape: a key of another type, or of
    /// the wrong size, is refused here rather than at the first token.
    pub fn decoding_key(&self, alg: Algorithm) -> Result<DecodingKey, MalformedKeys> {
        let bad = || MalformedKeys(format!("bad {alg} public key"));
        let bytes = |value: &Option<String>| {
            value
                .as_deref()
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .ok_or_else(bad)
        };
        let (x, y, n, e) = (&self.x, &self.y, &self.n, &self.e);
        match alg {
            Algorithm::EdDSA if bytes(x)?.len() == 32 && y.is_none() && n.is_none() => {
                DecodingKey::from_ed_components(x.as_deref().unwrap_or_default()).map_err(|_| bad())
            }
            Algorithm::ES256 if bytes(x)?.len() == 32 && bytes(y)?.len() == 32 && n.is_none() => {
                DecodingKey::from_ec_components(
                    x.as_deref().unwrap_or_default(),
                    y.as_deref().unwrap_or_default(),
                )
                .map_err(|_| bad())
            }
            Algorithm::RS256 if bytes(n)?.len() >= 256 && !bytes(e)?.is_empty() && x.is_none() => {
                DecodingKey::from_rsa_components(
                    n.as_deref().unwrap_or_default(),
                    e.as_deref().unwrap_or_default(),
                )
                .map_err(|_| bad())
            }
            _ => Err(bad()),
        }
    }
}

/// A parsed private key, ready to sign.
pub enum KeySigner {
    Ed25519(Ed25519KeyPair),
    P256(EcdsaKeyPair),
    Rsa(Box<RsaKeyPair>),
}

impl fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeySigner::Ed25519(_) => "KeySigner(EdDSA)",
            KeySigner::P256(_) => "KeySigner(ES256)",
            KeySigner::Rsa(_) => "KeySigner(RS256)",
        })
    }
}

impl KeySigner {
    /// Parses `alg`'s PKCS#8 document. An RSA key must be 2048 bits or more.
    pub fn from_pkcs8(alg: Algorithm, pkcs8: &[u8]) -> Result<Self, MalformedKeys> {
        let bad = || MalformedKeys(format!("not an {alg} PKCS#8 key"));
        Ok(match alg {
            Algorithm::EdDSA => KeySigner::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| bad())?),
            Algorithm::ES256 => KeySigner::P256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).map_err(|_| bad())?,
            ),
            Algorithm::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| bad())?;
                if pair.public_modulus_len() < 256 {
                    return Err(MalformedKeys("an RS256 key must have at least 2048 bits".into()));
                }
                KeySigner::Rsa(Box::new(pair))
            }
        })
    }

    /// The public JWK members.
    pub fn public(&self) -> Result<PublicJwk, MalformedKeys> {
        let b64 = |bytes: &[u8]| Some(URL_SAFE_NO_PAD.encode(bytes));
        Ok(match self {
            KeySigner::Ed25519(pair) => PublicJwk {
                x: b64(pair.public_key().as_ref()),
                ..PublicJwk::default()
            },
            KeySigner::P256(pair) => {
                // The uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                if point.len() != 65 || point[0] != 4 {
                    return Err(MalformedKeys("unexpected P-256 public key encoding".into()));
                }
                PublicJwk {
                    x: b64(&point[1..33]),
                    y: b64(&point[33..]),
                    ..PublicJwk::default()
                }
            }
            KeySigner::Rsa(pair) => {
                let public = pair.public_key();
                PublicJwk {
                    n: b64(public.modulus().big_endian_without_leading_zero()),
                    e: b64(public.exponent().big_endian_without_leading_zero()),
                    ..PublicJwk::default()
                }
            }
        })
    }

    /// The JWS signature of `message` (for ES256, the fixed-size `r || s` that JWS uses).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, MalformedKeys> {
        let failed = |_| MalformedKeys("signing failed".into());
        Ok(match self {
            KeySigner::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
            KeySigner::P256(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            KeySigner::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
                    .map_err(failed)?;
                signature
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_generates_signs_and_verifies_with_its_public_jwk_only() {
        for alg in Algorithm::ALL {
            let signer = KeySigner::from_pkcs8(alg, &alg.generate_pkcs8().unwrap()).unwrap();
            let public = signer.public().unwrap();
            let message = b"header.claims";
            let signature = URL_SAFE_NO_PAD.encode(signer.sign(message).unwrap());
            let key = public.decoding_key(alg).unwrap();
            let verified =
                jsonwebtoken::crypto::verify(&signature, message, &key, alg.jsonwebtoken()).unwrap();
            assert!(verified, "{alg}");
            assert!(
                !jsonwebtoken::crypto::verify(&signature, b"header.other", &key, alg.jsonwebtoken())
                    .unwrap_or(false),
                "{alg}"
            );
            assert_eq!(public.thumbprint(alg).unwrap().len(), 43, "{alg}");
            // The members of one key type are no key of another.
            for other in Algorithm::ALL.into_iter().filter(|other| *other != alg) {
                assert!(public.decoding_key(other).is_err(), "{alg} as {other}");
                assert!(KeySigner::from_pkcs8(other, &alg.generate_pkcs8().unwrap()).is_err());
            }
        }
    }

    #[test]
    fn rfc7638_thumbprint_of_the_rfcs_own_example() {
        // RFC 7638, section 3.1.
        let jwk = PublicJwk {
            n: Some("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into()),
            e: Some("AQAB".into()),
            ..PublicJwk::default()
        };
        assert_eq!(
            jwk.thumbprint(Algorithm::RS256).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
