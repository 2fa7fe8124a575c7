//! Remote object envelopes: the body of every object stored on a remote.
//!
//! The byte layouts are fixed by the reference `agit`, so a bucket can be shared by both
//! implementations (`DECISIONS.md` §2):
//!
//! | variant | layout |
//! |---|---|
//! | plaintext | `"AGITRM01"` ‖ `0x00` ‖ object bytes |
//! | encrypted (all new writes) | `"AGITRM02"` ‖ `0x01` ‖ nonce (12) ‖ GCM tag (16) ‖ ciphertext |
//! | legacy encrypted (read only) | `"AGITRM01"` ‖ `0x01` ‖ nonce (12) ‖ GCM tag (16) ‖ ciphertext |
//!
//! Encryption is AES-256-GCM with the object's 64 lowercase-hex BLAKE3 id as associated
//! data, so an envelope only opens under the id it was written for. The nonce is the first
//! 12 bytes of HMAC-SHA256(key, hex id): the same secret and object always give the same
//! envelope, which keeps "already on the remote" checks meaningful, and since the id fixes
//! the plaintext a (key, nonce) pair never seals two different messages.
//!
//! [`decode`] always checks BLAKE3(plaintext) against the expected id, so nothing it
//! returns can differ from the object that was asked for.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Magic of plaintext envelopes and of legacy (v1-key) encrypted envelopes.
pub const MAGIC_V1: &[u8; 8] = b"AGITRM01";
/// Magic of encrypted envelopes written with the Argon2id-derived key.
pub const MAGIC_V2: &[u8; 8] = b"AGITRM02";
/// Flags byte (offset 8) of a plaintext envelope.
pub const FLAG_PLAIN: u8 = 0x00;
/// Flags bit marking an encrypted envelope.
pub const FLAG_ENCRYPTED: u8 = 0x01;
/// Magic plus flags byte: the shortest well-formed envelope (an empty plaintext object).
pub const HEADER_LEN: usize = 9;
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Header, nonce and tag: the shortest well-formed encrypted envelope.
pub const ENCRYPTED_HEADER_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Shortest accepted secret, counted after trimming `" \t\r\n"` (reference
/// `min_encryption_secret_bytes`).
pub const MIN_SECRET_BYTES: usize = 16;
/// Fixed Argon2id salt shared by every deployment; it has to be, because two machines
/// holding only the secret must derive the same key.
pub const ARGON2_SALT: &[u8] = b"agit-remote-sync-argon2id-v2-salt";
/// Argon2id memory cost in KiB (Zig `Params.owasp_2id`).
pub const ARGON2_M_COST_KIB: u32 = 19 * 1024;
/// Argon2id iterations (Zig `Params.owasp_2id`).
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id lanes (Zig `Params.owasp_2id`).
pub const ARGON2_P_COST: u32 = 1;
/// Domain prefix hashed in front of the secret for the legacy v1 key.
const V1_KEY_DOMAIN: &[u8] = b"agit-remote-sync-v1";
/// AES-256 key length, also the Argon2id output length.
const KEY_LEN: usize = 32;
/// Length of an object id in hex.
const OBJECT_ID_HEX_LEN: usize = 64;
/// Whitespace the reference trims before judging a secret's length.
const SECRET_TRIM: &[u8] = b" \t\r\n";

type HmacSha256 = Hmac<Sha256>;

/// Why an envelope could not be built or opened.
///
/// Every variant has a stable snake_case [`code`](EnvelopeError::code) for diagnostics;
/// the reference reports all four format variants as `InvalidRemoteObjectFormat`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The envelope ends before its header (9 bytes) or, when encrypted, before nonce and
    /// tag (37 bytes).
    #[error("remote object envelope is truncated: {len} bytes, at least {min} required")]
    Truncated {
        /// Length of the envelope that was given.
        len: usize,
        /// Minimum length for what its header announced.
        min: usize,
    },
    /// The first 8 bytes are neither `AGITRM01` nor `AGITRM02`.
    #[error("remote object envelope has an unknown magic (expected AGITRM01 or AGITRM02)")]
    BadMagic,
    /// An `AGITRM02` envelope without the encrypted flag; v2 exists only encrypted.
    #[error("AGITRM02 remote object envelope is not marked encrypted")]
    UnencryptedV2,
    /// Flag bits other than the encrypted bit are set. No writer sets them, so they would
    /// mean a format this version does not understand.
    #[error("remote object envelope has unknown flags {flags:#04x}")]
    UnknownFlags {
        /// The flags byte as found.
        flags: u8,
    },
    /// The envelope is encrypted but no encryption secret is configured, or the configured
    /// secret is empty or blank.
    #[error("remote object is encrypted but no encryption secret is configured")]
    MissingEncryptionSecret,
    /// The secret is shorter than [`MIN_SECRET_BYTES`] after trimming whitespace.
    #[error(
        "encryption secret is too weak: {len} bytes after trimming whitespace, at least {min} required",
        min = MIN_SECRET_BYTES
    )]
    WeakEncryptionSecret {
        /// Trimmed length of the refused secret.
        len: usize,
    },
    /// Argon2id could not run (for example its 19 MiB work area could not be allocated).
    #[error("encryption key derivation failed: {reason}")]
    KeyDerivationFailed {
        /// The Argon2 error, as text.
        reason: String,
    },
    /// AES-GCM rejected the envelope: wrong secret, tampered bytes, or an envelope written
    /// for a different object id.
    #[error("remote object failed authentication (wrong encryption secret or tampered data)")]
    AuthenticationFailed,
    /// The opened object does not hash to the id it was requested (or encoded) under.
    #[error("remote object hash mismatch: expected {expected}, got {actual}")]
    ObjectHashMismatch {
        /// The id the caller asked for.
        expected: String,
        /// BLAKE3 of the bytes actually found.
        actual: String,
    },
    /// The object id given by the caller is not 64 lowercase hex characters, the only form
    /// the reference uses as associated data.
    #[error("invalid object id {id:?}: expected 64 lowercase hex characters")]
    InvalidObjectId {
        /// The id as given (truncated to 80 characters).
        id: String,
    },
    /// The object exceeds AES-GCM's per-message limit (64 GiB).
    #[error("object of {len} bytes is too large to encrypt")]
    ObjectTooLarge {
        /// Length of the object.
        len: usize,
    },
}

impl EnvelopeError {
    /// Stable snake_case code for diagnostics (`cli-json-v1` `code`/`hint`); never changes
    /// once released, unlike the human message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "envelope_truncated",
            Self::BadMagic => "envelope_bad_magic",
            Self::UnencryptedV2 => "envelope_v2_unencrypted",
            Self::UnknownFlags { .. } => "envelope_unknown_flags",
            Self::MissingEncryptionSecret => "missing_encryption_secret",
            Self::WeakEncryptionSecret { .. } => "weak_encryption_secret",
            Self::KeyDerivationFailed { .. } => "key_derivation_failed",
            Self::AuthenticationFailed => "authentication_failed",
            Self::ObjectHashMismatch { .. } => "object_hash_mismatch",
            Self::InvalidObjectId { .. } => "invalid_object_id",
            Self::ObjectTooLarge { .. } => "object_too_large",
        }
    }

    /// True for the errors the reference calls `InvalidRemoteObjectFormat`: the bytes are
    /// not a well-formed envelope at all (as opposed to a wrong key or wrong content).
    pub fn is_format_error(&self) -> bool {
        matches!(self, Self::Truncated { .. } | Self::BadMagic | Self::UnencryptedV2 | Self::UnknownFlags { .. })
    }
}

/// The three envelope variants that can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvelopeFormat {
    /// `AGITRM01` with flags `0x00`: the raw object follows.
    Plain,
    /// `AGITRM01` with flags `0x01`: sealed with the legacy SHA-256 key; read only.
    LegacyEncrypted,
    /// `AGITRM02` with flags `0x01`: sealed with the Argon2id key; what new writes use.
    Encrypted,
}

impl EnvelopeFormat {
    /// Whether opening this variant needs an [`EnvelopeKey`].
    pub fn is_encrypted(self) -> bool {
        !matches!(self, Self::Plain)
    }
}

/// Cipher state derived from one encryption secret.
///
/// Derivation runs Argon2id with 19 MiB of memory, which takes tens of milliseconds, so
/// derive once per command and share the key (it is `Clone`, and `Send + Sync`) across
/// every object. Holds both the v2 key (writes and `AGITRM02` reads) and the legacy v1
/// key (`AGITRM01` encrypted reads); key material is wiped on drop.
#[derive(Clone)]
pub struct EnvelopeKey {
    v2: Aes256Gcm,
    /// HMAC keyed with the v2 key, kept pre-keyed so each nonce costs one clone + hash.
    v2_nonce_mac: HmacSha256,
    v1: Aes256Gcm,
}

impl std::fmt::Debug for EnvelopeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, even in debug logs.
        f.write_str("EnvelopeKey { .. }")
    }
}

impl EnvelopeKey {
    /// Derives the v2 (Argon2id) and legacy v1 (SHA-256) keys from `secret`, the value of
    /// the remote's `encryption_secret_env` variable exactly as read.
    ///
    /// The secret is judged after trimming `" \t\r\n"` but the keys use the untrimmed
    /// bytes, as the reference does, so existing remotes stay readable.
    ///
    /// # Errors
    /// [`EnvelopeError::MissingEncryptionSecret`] when the secret is empty or blank,
    /// [`EnvelopeError::WeakEncryptionSecret`] when it is shorter than
    /// [`MIN_SECRET_BYTES`] after trimming (also refused for reading legacy remotes, like
    /// the reference), [`EnvelopeError::KeyDerivationFailed`] if Argon2id cannot run.
    pub fn from_secret(secret: impl AsRef<[u8]>) -> Result<Self, EnvelopeError> {
        let secret = secret.as_ref();
        let trimmed_len = trim_secret(secret).len();
        if trimmed_len == 0 {
            return Err(EnvelopeError::MissingEncryptionSecret);
        }
        if trimmed_len < MIN_SECRET_BYTES {
            return Err(EnvelopeError::WeakEncryptionSecret { len: trimmed_len });
        }

        let derivation_failed = |e: argon2::Error| EnvelopeError::KeyDerivationFailed { reason: e.to_string() };
        let params =
            Params::new(ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST, Some(KEY_LEN)).map_err(derivation_failed)?;
        let mut v2_key = Zeroizing::new([0u8; KEY_LEN]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(secret, ARGON2_SALT, v2_key.as_mut_slice())
            .map_err(derivation_failed)?;

        let mut v1_key = Zeroizing::new([0u8; KEY_LEN]);
        let mut v1_hash = Sha256::new();
        v1_hash.update(V1_KEY_DOMAIN);
        v1_hash.update(secret);
        for (dst, src) in v1_key.iter_mut().zip(v1_hash.finalize().iter()) {
            *dst = *src;
        }

        // Both slices are KEY_LEN bytes and HMAC takes any key length, so these errors
        // cannot occur; they are mapped rather than unwrapped all the same.
        let bad_len =
            |e: aes_gcm::aead::common::InvalidLength| EnvelopeError::KeyDerivationFailed { reason: e.to_string() };
        Ok(Self {
            v2: Aes256Gcm::new_from_slice(v2_key.as_slice()).map_err(bad_len)?,
            v2_nonce_mac: <HmacSha256 as KeyInit>::new_from_slice(v2_key.as_slice()).map_err(bad_len)?,
            v1: Aes256Gcm::new_from_slice(v1_key.as_slice()).map_err(bad_len)?,
        })
    }

    /// The deterministic v2 nonce for an object: HMAC-SHA256(v2 key, hex id)[..12].
    fn v2_nonce(&self, object_id_hex: &[u8]) -> [u8; NONCE_LEN] {
        let mut mac = self.v2_nonce_mac.clone();
        mac.update(object_id_hex);
        let digest = mac.finalize().into_bytes();
        let mut nonce = [0u8; NONCE_LEN];
        for (dst, src) in nonce.iter_mut().zip(digest.iter()) {
            *dst = *src;
        }
        nonce
    }
}

/// Wraps an object in a plaintext envelope (`AGITRM01` ‖ `0x00` ‖ bytes), used when the
/// remote has no encryption secret.
pub fn encode_plain(object: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + object.len());
    out.extend_from_slice(MAGIC_V1);
    out.push(FLAG_PLAIN);
    out.extend_from_slice(object);
    out
}

/// Seals an object in an `AGITRM02` envelope under `key`.
///
/// `object_id_hex` must be the object's id (64 lowercase hex of BLAKE3(`object`)); it is
/// the associated data and the nonce input. The result is deterministic, byte-identical to
/// the reference's for the same secret and object.
///
/// # Errors
/// [`EnvelopeError::InvalidObjectId`] for a malformed id,
/// [`EnvelopeError::ObjectHashMismatch`] when `object` does not hash to it (checked so a
/// corrupt local object is never uploaded under a key it can never be read back from),
/// [`EnvelopeError::ObjectTooLarge`] beyond AES-GCM's 64 GiB message limit.
pub fn encode_encrypted(key: &EnvelopeKey, object_id_hex: &str, object: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let aad = validate_object_id(object_id_hex)?;
    verify_object_hash(object_id_hex, object)?;

    let nonce = key.v2_nonce(aad);
    let mut out = Vec::with_capacity(ENCRYPTED_HEADER_LEN + object.len());
    out.extend_from_slice(MAGIC_V2);
    out.push(FLAG_ENCRYPTED);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&[0u8; TAG_LEN]);
    out.extend_from_slice(object);

    // `out` was just built with at least ENCRYPTED_HEADER_LEN bytes, so the split holds.
    let (header, body) = out.split_at_mut(ENCRYPTED_HEADER_LEN);
    let tag = key
        .v2
        .encrypt_inout_detached(&nonce.into(), aad, body.into())
        .map_err(|_| EnvelopeError::ObjectTooLarge { len: object.len() })?;
    for (dst, src) in header[HEADER_LEN + NONCE_LEN..].iter_mut().zip(tag.iter()) {
        *dst = *src;
    }
    Ok(out)
}

/// Reads an envelope's header (magic and flags) without opening it.
///
/// Lets a caller see whether a remote object is encrypted, for example to refuse
/// plaintext objects on a remote that should only hold encrypted ones.
///
/// # Errors
/// [`EnvelopeError::Truncated`] (under 9 bytes), [`EnvelopeError::BadMagic`],
/// [`EnvelopeError::UnencryptedV2`], [`EnvelopeError::UnknownFlags`].
pub fn inspect(envelope: &[u8]) -> Result<EnvelopeFormat, EnvelopeError> {
    let Some((magic, rest)) = envelope.split_first_chunk::<8>() else {
        return Err(EnvelopeError::Truncated { len: envelope.len(), min: HEADER_LEN });
    };
    let Some(&flags) = rest.first() else {
        return Err(EnvelopeError::Truncated { len: envelope.len(), min: HEADER_LEN });
    };
    let v2 = match magic {
        MAGIC_V1 => false,
        MAGIC_V2 => true,
        _ => return Err(EnvelopeError::BadMagic),
    };
    if flags & !FLAG_ENCRYPTED != 0 {
        return Err(EnvelopeError::UnknownFlags { flags });
    }
    let encrypted = flags & FLAG_ENCRYPTED != 0;
    match (v2, encrypted) {
        (false, false) => Ok(EnvelopeFormat::Plain),
        (false, true) => Ok(EnvelopeFormat::LegacyEncrypted),
        (true, true) => Ok(EnvelopeFormat::Encrypted),
        (true, false) => Err(EnvelopeError::UnencryptedV2),
    }
}

/// Opens any readable envelope (`AGITRM01` plaintext, `AGITRM01` legacy encrypted,
/// `AGITRM02`) and returns the object bytes, verified to hash to `expected_object_id_hex`.
///
/// Plaintext envelopes are accepted even when a key is given (the reference does, and
/// objects pushed before encryption was enabled stay plaintext); use [`inspect`] first to
/// refuse them. After validating the id, checks run in the reference's order, so the
/// same bad input gives the same kind of error.
///
/// # Errors
/// [`EnvelopeError::InvalidObjectId`] for a malformed id; the format errors of
/// [`inspect`]; [`EnvelopeError::MissingEncryptionSecret`] for an encrypted envelope and
/// no key; [`EnvelopeError::Truncated`] when nonce and tag are cut short;
/// [`EnvelopeError::AuthenticationFailed`] for a wrong key, tampering, or an envelope
/// belonging to another id; [`EnvelopeError::ObjectHashMismatch`] when the content does
/// not hash to the expected id.
pub fn decode(
    key: Option<&EnvelopeKey>,
    expected_object_id_hex: &str,
    envelope: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let aad = validate_object_id(expected_object_id_hex)?;
    let format = inspect(envelope)?;
    let body = envelope.get(HEADER_LEN..).unwrap_or_default();

    let plaintext = match format {
        EnvelopeFormat::Plain => body.to_vec(),
        EnvelopeFormat::LegacyEncrypted | EnvelopeFormat::Encrypted => {
            let key = key.ok_or(EnvelopeError::MissingEncryptionSecret)?;
            let truncated = || EnvelopeError::Truncated { len: envelope.len(), min: ENCRYPTED_HEADER_LEN };
            let (nonce, rest) = body.split_first_chunk::<NONCE_LEN>().ok_or_else(truncated)?;
            let (tag, ciphertext) = rest.split_first_chunk::<TAG_LEN>().ok_or_else(truncated)?;
            let cipher = if format == EnvelopeFormat::Encrypted { &key.v2 } else { &key.v1 };
            let mut plaintext = ciphertext.to_vec();
            cipher
                .decrypt_inout_detached(&(*nonce).into(), aad, plaintext.as_mut_slice().into(), &(*tag).into())
                .map_err(|_| EnvelopeError::AuthenticationFailed)?;
            plaintext
        }
    };

    verify_object_hash(expected_object_id_hex, &plaintext)?;
    Ok(plaintext)
}

/// Checks that `id` is 64 lowercase hex characters and returns its bytes (the AAD).
fn validate_object_id(id: &str) -> Result<&[u8], EnvelopeError> {
    let bytes = id.as_bytes();
    if bytes.len() == OBJECT_ID_HEX_LEN && bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(bytes)
    } else {
        Err(EnvelopeError::InvalidObjectId { id: id.chars().take(80).collect() })
    }
}

/// Checks BLAKE3(`object`) against an already validated lowercase hex id.
fn verify_object_hash(expected_hex: &str, object: &[u8]) -> Result<(), EnvelopeError> {
    let actual = blake3::hash(object).to_hex();
    if actual.as_str() == expected_hex {
        Ok(())
    } else {
        Err(EnvelopeError::ObjectHashMismatch { expected: expected_hex.to_owned(), actual: actual.to_string() })
    }
}

/// The secret without leading and trailing `" \t\r\n"` (Zig `std.mem.trim`).
fn trim_secret(secret: &[u8]) -> &[u8] {
    let start = secret.iter().position(|b| !SECRET_TRIM.contains(b)).unwrap_or(secret.len());
    let end = secret.iter().rposition(|b| !SECRET_TRIM.contains(b)).map_or(start, |i| i + 1);
    secret.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    const SECRET: &str = "unit-test secret, long enough";

    static KEY: LazyLock<EnvelopeKey> = LazyLock::new(|| EnvelopeKey::from_secret(SECRET).expect("valid secret"));

    fn id_of(bytes: &[u8]) -> String {
        blake3::hash(bytes).to_hex().to_string()
    }

    #[test]
    fn plain_layout_is_magic_flag_bytes() {
        assert_eq!(encode_plain(b"abc"), b"AGITRM01\x00abc");
        assert_eq!(encode_plain(b""), b"AGITRM01\x00");
        assert_eq!(decode(None, &id_of(b""), b"AGITRM01\x00").as_deref(), Ok(&b""[..]));
    }

    #[test]
    fn encrypted_layout_and_determinism() {
        let obj = b"hello envelope";
        let id = id_of(obj);
        let a = encode_encrypted(&KEY, &id, obj).unwrap();
        let b = encode_encrypted(&KEY, &id, obj).unwrap();
        assert_eq!(a, b, "same key and object must give identical envelopes");
        assert_eq!(a.len(), ENCRYPTED_HEADER_LEN + obj.len());
        assert_eq!(&a[..8], MAGIC_V2);
        assert_eq!(a[8], FLAG_ENCRYPTED);
        assert_eq!(&a[HEADER_LEN..HEADER_LEN + NONCE_LEN], &KEY.v2_nonce(id.as_bytes()));
        assert_ne!(&a[ENCRYPTED_HEADER_LEN..], obj);
        assert_eq!(inspect(&a), Ok(EnvelopeFormat::Encrypted));
        assert_eq!(decode(Some(&KEY), &id, &a).unwrap(), obj);
    }

    #[test]
    fn empty_object_round_trips_encrypted() {
        let id = id_of(b"");
        let env = encode_encrypted(&KEY, &id, b"").unwrap();
        assert_eq!(env.len(), ENCRYPTED_HEADER_LEN);
        assert_eq!(decode(Some(&KEY), &id, &env).unwrap(), b"");
    }

    #[test]
    fn secrets_are_judged_trimmed() {
        assert_eq!(EnvelopeKey::from_secret("").unwrap_err(), EnvelopeError::MissingEncryptionSecret);
        assert_eq!(EnvelopeKey::from_secret(" \t\r\n ").unwrap_err(), EnvelopeError::MissingEncryptionSecret);
        assert_eq!(
            EnvelopeKey::from_secret("fifteen-bytes!!").unwrap_err(),
            EnvelopeError::WeakEncryptionSecret { len: 15 }
        );
        // 15 visible bytes padded with whitespace are still weak.
        assert_eq!(
            EnvelopeKey::from_secret("  fifteen-bytes!!\n\n").unwrap_err(),
            EnvelopeError::WeakEncryptionSecret { len: 15 }
        );
        assert_eq!(trim_secret(b" \ta b\r\n"), b"a b");
        assert_eq!(trim_secret(b"\n\n"), b"");
        assert_eq!(trim_secret(b"x"), b"x");
    }

    #[test]
    fn untrimmed_secret_is_a_different_key() {
        // The key uses the bytes as given, so surrounding whitespace matters (reference).
        let padded = EnvelopeKey::from_secret(format!("{SECRET}\n")).unwrap();
        let obj = b"whitespace matters";
        let id = id_of(obj);
        let env = encode_encrypted(&KEY, &id, obj).unwrap();
        assert_eq!(decode(Some(&padded), &id, &env), Err(EnvelopeError::AuthenticationFailed));
    }

    #[test]
    fn inspect_classifies_headers() {
        assert_eq!(inspect(b"AGITRM01\x00"), Ok(EnvelopeFormat::Plain));
        assert_eq!(inspect(b"AGITRM01\x01"), Ok(EnvelopeFormat::LegacyEncrypted));
        assert_eq!(inspect(b"AGITRM02\x01"), Ok(EnvelopeFormat::Encrypted));
        assert_eq!(inspect(b"AGITRM02\x00"), Err(EnvelopeError::UnencryptedV2));
        assert_eq!(inspect(b"AGITRM01\x03"), Err(EnvelopeError::UnknownFlags { flags: 3 }));
        assert_eq!(inspect(b"AGITRM03\x01"), Err(EnvelopeError::BadMagic));
        assert_eq!(inspect(b"AGITRM01"), Err(EnvelopeError::Truncated { len: 8, min: 9 }));
        assert_eq!(inspect(b""), Err(EnvelopeError::Truncated { len: 0, min: 9 }));
        assert!(EnvelopeFormat::Encrypted.is_encrypted());
        assert!(EnvelopeFormat::LegacyEncrypted.is_encrypted());
        assert!(!EnvelopeFormat::Plain.is_encrypted());
    }

    #[test]
    fn decode_follows_reference_check_order() {
        let id = id_of(b"x");
        // Encrypted with no key is reported before a too-short nonce/tag.
        assert_eq!(decode(None, &id, b"AGITRM02\x01short"), Err(EnvelopeError::MissingEncryptionSecret));
        assert_eq!(decode(Some(&KEY), &id, b"AGITRM02\x01short"), Err(EnvelopeError::Truncated { len: 14, min: 37 }));
        // Every cut of an encrypted envelope inside nonce or tag is a truncation.
        let env = encode_encrypted(&KEY, &id, b"x").unwrap();
        for cut in HEADER_LEN..ENCRYPTED_HEADER_LEN {
            assert_eq!(decode(Some(&KEY), &id, &env[..cut]), Err(EnvelopeError::Truncated { len: cut, min: 37 }));
        }
    }

    #[test]
    fn object_ids_must_be_lowercase_hex() {
        let obj = b"id check";
        let id = id_of(obj);
        let upper = id.to_uppercase();
        for bad in [upper.as_str(), &id[..63], "", "zz", &format!("{id}0")] {
            let err = encode_encrypted(&KEY, bad, obj).unwrap_err();
            assert_eq!(err.code(), "invalid_object_id", "{bad:?}");
            let err = decode(None, bad, &encode_plain(obj)).unwrap_err();
            assert_eq!(err.code(), "invalid_object_id", "{bad:?}");
        }
        // A long non-ASCII id is truncated in the error, never sliced mid-character.
        let long = "é".repeat(100);
        match decode(None, &long, b"") {
            Err(EnvelopeError::InvalidObjectId { id }) => assert_eq!(id.chars().count(), 80),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn encoding_refuses_objects_that_do_not_match_their_id() {
        let err = encode_encrypted(&KEY, &id_of(b"one"), b"two").unwrap_err();
        assert_eq!(err, EnvelopeError::ObjectHashMismatch { expected: id_of(b"one"), actual: id_of(b"two") });
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let all = [
            EnvelopeError::Truncated { len: 0, min: 9 },
            EnvelopeError::BadMagic,
            EnvelopeError::UnencryptedV2,
            EnvelopeError::UnknownFlags { flags: 2 },
            EnvelopeError::MissingEncryptionSecret,
            EnvelopeError::WeakEncryptionSecret { len: 3 },
            EnvelopeError::KeyDerivationFailed { reason: String::new() },
            EnvelopeError::AuthenticationFailed,
            EnvelopeError::ObjectHashMismatch { expected: String::new(), actual: String::new() },
            EnvelopeError::InvalidObjectId { id: String::new() },
            EnvelopeError::ObjectTooLarge { len: 0 },
        ];
        let mut codes: Vec<_> = all.iter().map(EnvelopeError::code).collect();
        for code in &codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    && code.bytes().next().is_some_and(|b| b.is_ascii_lowercase()),
                "{code}"
            );
        }
        let formats = all.iter().filter(|e| e.is_format_error()).count();
        assert_eq!(formats, 4);
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }

    #[test]
    fn debug_does_not_leak_key_material() {
        assert_eq!(format!("{:?}", *KEY), "EnvelopeKey { .. }");
    }

    #[test]
    fn key_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<EnvelopeKey>();
    }
}
