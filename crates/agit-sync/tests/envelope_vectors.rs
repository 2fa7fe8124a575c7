//! Envelope compatibility and robustness: the independently computed vectors in
//! `shared/spec/vectors/vectors.json` must decode and re-encode byte for byte, and every
//! corruption must fail with an error rather than return wrong bytes or panic.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use agit_sync::envelope::{
    EnvelopeError, EnvelopeFormat, EnvelopeKey, decode, encode_encrypted, encode_plain, inspect,
};
use proptest::prelude::*;

/// One entry of `envelopes` in vectors.json, hex fields decoded.
struct Vector {
    secret: String,
    hash: String,
    plaintext: Vec<u8>,
    v2: Vec<u8>,
    v1_encrypted: Vec<u8>,
    v1_plain: Vec<u8>,
}

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/vectors/vectors.json")
}

static VECTORS: LazyLock<Vec<Vector>> = LazyLock::new(|| {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("vectors.json parses");
    let entries = json["envelopes"].as_array().expect("envelopes is an array");
    assert!(!entries.is_empty(), "vectors.json has no envelopes");
    entries
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_else(|| panic!("envelope field {k} missing")).to_owned();
            let h = |k: &str| hex::decode(s(k)).unwrap_or_else(|e| panic!("{k}: {e}"));
            Vector {
                secret: s("secret"),
                hash: s("hash"),
                plaintext: h("plaintext_hex"),
                v2: h("agitrm02_hex"),
                v1_encrypted: h("agitrm01_encrypted_hex"),
                v1_plain: h("agitrm01_plain_hex"),
            }
        })
        .collect()
});

/// Argon2id is slow, so each distinct secret is derived once for the whole test binary.
static KEYS: LazyLock<HashMap<String, EnvelopeKey>> = LazyLock::new(|| {
    let mut keys = HashMap::new();
    for v in VECTORS.iter() {
        keys.entry(v.secret.clone())
            .or_insert_with(|| EnvelopeKey::from_secret(&v.secret).expect("vector secret is strong enough"));
    }
    keys
});

/// A key from a secret no vector uses.
static OTHER_KEY: LazyLock<EnvelopeKey> =
    LazyLock::new(|| EnvelopeKey::from_secret("a different secret of sufficient length").expect("valid secret"));

fn key_for(v: &Vector) -> &'static EnvelopeKey {
    &KEYS[&v.secret]
}

fn encrypted_variants(v: &Vector) -> [(&'static str, &[u8]); 2] {
    [("AGITRM02", &v.v2), ("AGITRM01 encrypted", &v.v1_encrypted)]
}

#[test]
fn vector_hashes_are_blake3_of_plaintext() {
    for v in VECTORS.iter() {
        assert_eq!(blake3::hash(&v.plaintext).to_hex().as_str(), v.hash);
    }
}

#[test]
fn every_variant_decodes_to_the_plaintext() {
    for v in VECTORS.iter() {
        let key = key_for(v);
        let cases = [
            (&v.v2, EnvelopeFormat::Encrypted),
            (&v.v1_encrypted, EnvelopeFormat::LegacyEncrypted),
            (&v.v1_plain, EnvelopeFormat::Plain),
        ];
        for (envelope, format) in cases {
            assert_eq!(inspect(envelope), Ok(format), "{}", v.hash);
            let decoded = decode(Some(key), &v.hash, envelope).unwrap_or_else(|e| panic!("{} {format:?}: {e}", v.hash));
            assert_eq!(decoded, v.plaintext, "{} {format:?}", v.hash);
        }
        // Plaintext envelopes need no key.
        assert_eq!(decode(None, &v.hash, &v.v1_plain).unwrap(), v.plaintext);
    }
}

#[test]
fn re_encoding_reproduces_vector_bytes() {
    for v in VECTORS.iter() {
        assert_eq!(encode_plain(&v.plaintext), v.v1_plain, "{}", v.hash);
        let v2 = encode_encrypted(key_for(v), &v.hash, &v.plaintext).unwrap();
        assert_eq!(hex::encode(&v2), hex::encode(&v.v2), "{}", v.hash);
    }
}

#[test]
fn flipping_any_byte_of_an_encrypted_envelope_fails() {
    for v in VECTORS.iter() {
        let key = key_for(v);
        for (name, envelope) in encrypted_variants(v) {
            for pos in 0..envelope.len() {
                for mask in [0x01u8, 0x80, 0xff] {
                    let mut bad = envelope.to_vec();
                    bad[pos] ^= mask;
                    match decode(Some(key), &v.hash, &bad) {
                        Err(
                            EnvelopeError::AuthenticationFailed
                            | EnvelopeError::ObjectHashMismatch { .. }
                            | EnvelopeError::BadMagic
                            | EnvelopeError::UnencryptedV2
                            | EnvelopeError::UnknownFlags { .. },
                        ) => {}
                        other => panic!("{name} {} byte {pos} ^ {mask:#04x}: expected an error, got {other:?}", v.hash),
                    }
                }
            }
        }
    }
}

#[test]
fn flipping_a_plaintext_envelope_byte_fails() {
    for v in VECTORS.iter() {
        for pos in 0..v.v1_plain.len() {
            let mut bad = v.v1_plain.clone();
            bad[pos] ^= 0x01;
            let err = decode(Some(key_for(v)), &v.hash, &bad).unwrap_err();
            if pos < 9 {
                // Header bytes: bad magic, or flag 0x01 turns it into a (too short or
                // unauthentic) encrypted envelope.
                assert!(err.is_format_error() || err == EnvelopeError::AuthenticationFailed, "byte {pos}: {err:?}");
            } else {
                assert_eq!(err.code(), "object_hash_mismatch", "byte {pos}");
            }
        }
    }
}

#[test]
fn every_truncation_fails() {
    for v in VECTORS.iter() {
        let key = key_for(v);
        for envelope in [&v.v2, &v.v1_encrypted, &v.v1_plain] {
            for cut in 0..envelope.len() {
                let err = decode(Some(key), &v.hash, &envelope[..cut]).unwrap_err();
                assert!(
                    matches!(
                        err,
                        EnvelopeError::Truncated { .. }
                            | EnvelopeError::AuthenticationFailed
                            | EnvelopeError::ObjectHashMismatch { .. }
                    ),
                    "cut {cut}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn wrong_secret_fails_authentication() {
    for v in VECTORS.iter() {
        for (name, envelope) in encrypted_variants(v) {
            assert_eq!(decode(Some(&OTHER_KEY), &v.hash, envelope), Err(EnvelopeError::AuthenticationFailed), "{name}");
        }
        // The ciphertext of our own envelope differs under another key.
        let ours = encode_encrypted(&OTHER_KEY, &v.hash, &v.plaintext).unwrap();
        assert_ne!(ours, v.v2);
        assert_eq!(decode(Some(&OTHER_KEY), &v.hash, &ours).unwrap(), v.plaintext);
    }
}

#[test]
fn missing_key_is_reported_for_encrypted_envelopes() {
    for v in VECTORS.iter() {
        for (name, envelope) in encrypted_variants(v) {
            let err = decode(None, &v.hash, envelope).unwrap_err();
            assert_eq!(err, EnvelopeError::MissingEncryptionSecret, "{name}");
            assert_eq!(err.code(), "missing_encryption_secret");
        }
    }
}

#[test]
fn wrong_expected_id_fails() {
    let wrong = blake3::hash(b"some other object").to_hex().to_string();
    for v in VECTORS.iter() {
        let key = key_for(v);
        // The id is the AAD, so encrypted envelopes do not even open under another id.
        for (name, envelope) in encrypted_variants(v) {
            assert_eq!(decode(Some(key), &wrong, envelope), Err(EnvelopeError::AuthenticationFailed), "{name}");
        }
        assert_eq!(
            decode(Some(key), &wrong, &v.v1_plain),
            Err(EnvelopeError::ObjectHashMismatch { expected: wrong.clone(), actual: v.hash.clone() })
        );
    }
}

#[test]
fn envelopes_cannot_be_swapped_between_objects() {
    let [a, b, ..] = VECTORS.as_slice() else {
        panic!("need two envelope vectors");
    };
    assert_eq!(decode(Some(key_for(a)), &a.hash, &b.v2), Err(EnvelopeError::AuthenticationFailed));
    assert_eq!(decode(Some(key_for(b)), &b.hash, &a.v1_encrypted), Err(EnvelopeError::AuthenticationFailed));
}

#[test]
fn magic_swap_between_key_versions_fails() {
    // A v2 body presented as legacy (and vice versa) is opened with the wrong key.
    for v in VECTORS.iter() {
        let mut as_v1 = v.v2.clone();
        as_v1[..8].copy_from_slice(b"AGITRM01");
        let mut as_v2 = v.v1_encrypted.clone();
        as_v2[..8].copy_from_slice(b"AGITRM02");
        for envelope in [as_v1, as_v2] {
            assert_eq!(decode(Some(key_for(v)), &v.hash, &envelope), Err(EnvelopeError::AuthenticationFailed));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_objects_round_trip(object in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let key = &*OTHER_KEY;
        let id = blake3::hash(&object).to_hex().to_string();

        let sealed = encode_encrypted(key, &id, &object).unwrap();
        prop_assert_eq!(sealed.len(), 37 + object.len());
        prop_assert_eq!(inspect(&sealed), Ok(EnvelopeFormat::Encrypted));
        prop_assert_eq!(&decode(Some(key), &id, &sealed).unwrap(), &object);
        prop_assert_eq!(encode_encrypted(key, &id, &object).unwrap(), sealed);

        let plain = encode_plain(&object);
        prop_assert_eq!(inspect(&plain), Ok(EnvelopeFormat::Plain));
        prop_assert_eq!(&decode(None, &id, &plain).unwrap(), &object);
        prop_assert_eq!(&decode(Some(key), &id, &plain).unwrap(), &object);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        header in prop_oneof![
            Just(b"AGITRM01".to_vec()),
            Just(b"AGITRM02".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..10),
        ],
        rest in proptest::collection::vec(any::<u8>(), 0..96),
        with_key in any::<bool>(),
    ) {
        let mut envelope = header;
        envelope.extend_from_slice(&rest);
        let id = blake3::hash(&rest).to_hex().to_string();
        let key = with_key.then_some(&*OTHER_KEY);
        // Only a well-formed plaintext envelope of exactly these bytes may succeed.
        if let Ok(object) = decode(key, &id, &envelope) {
            prop_assert_eq!(inspect(&envelope), Ok(EnvelopeFormat::Plain));
            prop_assert_eq!(blake3::hash(&object).to_hex().to_string(), id);
        }
    }
}
