//! Remote object envelopes (`AGITRM01` plaintext and legacy encrypted, `AGITRM02`):
//! `agit_sync::envelope::decode` with and without a key, plus `inspect`.
//!
//! Properties:
//! - the input read as an envelope, under the id its body would have: whatever `decode`
//!   returns hashes to the id asked for, and `inspect` agrees with what `decode` opened;
//! - the input read as an object: `encode_plain` and `encode_encrypted` round-trip
//!   through `decode`, an encrypted envelope never opens without the key or under
//!   another id, and one flipped bit anywhere in it is refused.
#![no_main]

use std::sync::OnceLock;

use agit_sync::envelope::{self, ENCRYPTED_HEADER_LEN, EnvelopeError, EnvelopeFormat, EnvelopeKey, HEADER_LEN};
use libfuzzer_sys::fuzz_target;

/// Argon2id takes tens of milliseconds: derive the key once per process.
fn key() -> &'static EnvelopeKey {
    static KEY: OnceLock<EnvelopeKey> = OnceLock::new();
    KEY.get_or_init(|| EnvelopeKey::from_secret("agit fuzz secret, 32 bytes long!").expect("valid secret"))
}

fn id_of(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fuzz_target!(|data: &[u8]| {
    let key = key();

    // As an envelope. Ids to try: of the plaintext body, of the would-be ciphertext, and
    // of the whole input (never right, but it exercises the mismatch path).
    let ids = [
        id_of(data.get(HEADER_LEN..).unwrap_or_default()),
        id_of(data.get(ENCRYPTED_HEADER_LEN..).unwrap_or_default()),
        id_of(data),
    ];
    let format = envelope::inspect(data);
    for id in &ids {
        for k in [None, Some(key)] {
            match envelope::decode(k, id, data) {
                Ok(object) => {
                    assert_eq!(&id_of(&object), id, "decode returned bytes that do not hash to the id");
                    let format = format.clone().expect("decode opened what inspect refuses");
                    assert!(
                        k.is_some() || format == EnvelopeFormat::Plain,
                        "opened an encrypted envelope without a key"
                    );
                    if format == EnvelopeFormat::Plain {
                        assert_eq!(object, data[HEADER_LEN..]);
                    }
                }
                Err(e) => assert!(!e.code().is_empty()),
            }
        }
    }
    assert!(envelope::decode(None, "not an id", data).is_err());

    // As an object.
    let id = id_of(data);
    let plain = envelope::encode_plain(data);
    assert_eq!(envelope::inspect(&plain), Ok(EnvelopeFormat::Plain));
    assert_eq!(envelope::decode(None, &id, &plain).as_deref(), Ok(data));
    assert_eq!(envelope::decode(Some(key), &id, &plain).as_deref(), Ok(data));

    let sealed = envelope::encode_encrypted(key, &id, data).expect("encrypt");
    assert_eq!(envelope::inspect(&sealed), Ok(EnvelopeFormat::Encrypted));
    assert_eq!(envelope::encode_encrypted(key, &id, data).as_ref(), Ok(&sealed), "encryption is not deterministic");
    assert_eq!(envelope::decode(Some(key), &id, &sealed).as_deref(), Ok(data));
    assert_eq!(envelope::decode(None, &id, &sealed), Err(EnvelopeError::MissingEncryptionSecret));
    let other = id_of(&sealed);
    assert!(envelope::decode(Some(key), &other, &sealed).is_err(), "opened under another id");
    let bit = data.iter().fold(data.len(), |acc, b| acc.wrapping_mul(31).wrapping_add(usize::from(*b)));
    let mut tampered = sealed.clone();
    let at = bit % tampered.len();
    tampered[at] ^= 1 << (bit % 8);
    assert!(envelope::decode(Some(key), &id, &tampered).is_err(), "a flipped bit at {at} was accepted");
});
