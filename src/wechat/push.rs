//! Message push as WeChat sends it to a merchant's server: the URL signature, and safe mode's
//! encryption (AES-256-CBC with the EncodingAESKey).
//!
//! - `signature` = SHA-1 of the sorted concatenation of the push Token, `timestamp` and `nonce`.
//! - Safe mode: key = base64(EncodingAESKey + "="), IV = the key's first 16 bytes; plaintext =
//!   16 random bytes + 4-byte big-endian length + message + appid, padded PKCS#7-style to a
//!   multiple of 32 bytes; `Encrypt` is the base64 of the ciphertext, and `msg_signature` the
//!   SHA-1 of the sorted Token, timestamp, nonce and `Encrypt`.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use sha1::{Digest, Sha1};

use crate::base::secret::Secret;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// The key's last character carries 4 unused bits that WeChat's keys do not zero, so they are
/// decoded leniently, as the platform's own SDKs do.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// WeChat pads to this, not to AES's 16-byte block.
const PAD_BLOCK: usize = 32;

/// How pushes are sent (the MP console's 消息加密方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushMode {
    /// 明文模式: the message as it is.
    #[default]
    Plain,
    /// 兼容模式: the plain message and its encrypted copy.
    Compat,
    /// 安全模式: only the encrypted message.
    Safe,
}

impl PushMode {
    pub fn name(self) -> &'static str {
        match self {
            PushMode::Plain => "plain",
            PushMode::Compat => "compat",
            PushMode::Safe => "safe",
        }
    }

    pub fn encrypts(self) -> bool {
        self != PushMode::Plain
    }
}

impl std::str::FromStr for PushMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "plain" => Ok(PushMode::Plain),
            "compat" | "compatible" => Ok(PushMode::Compat),
            "safe" => Ok(PushMode::Safe),
            other => Err(format!("push mode `{other}`: use plain, compat or safe")),
        }
    }
}

impl std::fmt::Display for PushMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// SHA-1 hex of the parts sorted and joined, as WeChat signs push URLs.
pub fn sorted_sha1(parts: &[&str]) -> String {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    let digest = Sha1::digest(parts.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL's `signature`.
pub fn signature(token: &Secret, timestamp: &str, nonce: &str) -> String {
    sorted_sha1(&[token.expose(), timestamp, nonce])
}

/// The URL's `msg_signature` in safe and compatible mode.
pub fn msg_signature(token: &Secret, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sorted_sha1(&[token.expose(), timestamp, nonce, encrypt])
}

/// The 43-character EncodingAESKey, decoded: a secret like any other.
#[derive(Clone)]
pub struct AesKey {
    key: [u8; 32],
}

/// Why an EncodingAESKey was refused (the key itself is never kept here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AesKeyError {
    /// It has this many characters, not 43.
    Length(usize),
    /// Its 43 characters are not the base64 of 32 bytes.
    NotBase64,
}

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(***)")
    }
}

impl AesKey {
    /// Decodes an EncodingAESKey; the error never holds the key.
    pub fn parse(encoding_aes_key: &Secret) -> Result<AesKey, AesKeyError> {
        let text = encoding_aes_key.expose().trim();
        let length = text.chars().count();
        if length != 43 {
            return Err(AesKeyError::Length(length));
        }
        let bytes = KEY_BASE64
            .decode(format!("{text}="))
            .map_err(|_| AesKeyError::NotBase64)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| AesKeyError::NotBase64)?;
        Ok(AesKey { key })
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// `Encrypt` for `message` sent by `appid`, with these 16 random bytes first.
    pub fn encrypt(&self, random: [u8; 16], message: &str, appid: &str) -> String {
        let mut plain = Vec::with_capacity(20 + message.len() + appid.len() + PAD_BLOCK);
        plain.extend_from_slice(&random);
        let length = u32::try_from(message.len()).unwrap_or(u32::MAX);
        plain.extend_from_slice(&length.to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(appid.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let len = plain.len();
        let cipher = Encryptor::new(&self.key.into(), &self.iv().into());
        // The buffer is already a whole number of blocks, so this cannot fail.
        let sealed = cipher
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode(sealed)
    }

    /// The message and appid inside `Encrypt`, as a merchant's server reads them.
    pub fn decrypt(&self, encrypt: &str) -> Result<(String, String), String> {
        let mut data = STANDARD
            .decode(encrypt.trim())
            .map_err(|_| "Encrypt is not base64".to_owned())?;
        let cipher = Decryptor::new(&self.key.into(), &self.iv().into());
        let plain = cipher
            .decrypt_padded_mut::<NoPadding>(&mut data)
            .map_err(|_| "Encrypt is not whole AES blocks".to_owned())?;
        let pad = usize::from(*plain.last().ok_or("Encrypt is empty")?);
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() || plain.len() < 20 + pad {
            return Err("bad padding (wrong EncodingAESKey?)".to_owned());
        }
        let body = &plain[16..plain.len() - pad];
        let length = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
        let rest = &body[4..];
        if length > rest.len() {
            return Err(
                "the length inside Encrypt is too large (wrong EncodingAESKey?)".to_owned(),
            );
        }
        let message = String::from_utf8(rest[..length].to_vec())
            .map_err(|_| "the message inside Encrypt is not UTF-8".to_owned())?;
        let appid = String::from_utf8(rest[length..].to_vec())
            .map_err(|_| "the appid inside Encrypt is not UTF-8".to_owned())?;
        Ok((message, appid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixed vector made with an independent implementation (Python's `cryptography`
    // package, AES-256-CBC with no padding of its own, the WeChat layout built by hand):
    // EncodingAESKey, random bytes, message and appid in; Encrypt out.
    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const RANDOM: [u8; 16] = *b"0123456789abcdef";
    const MESSAGE: &str = r#"{"Event":"update_waybill_status","order_status":302}"#;
    const APPID: &str = "wxd0d1c2b3a4f5e6d7";
    const ENCRYPT: &str = include_str!("push_vector.txt");

    #[test]
    fn encryption_matches_an_independent_implementation() {
        let key = AesKey::parse(&Secret::new(KEY)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(key.encrypt(RANDOM, MESSAGE, APPID), ENCRYPT.trim());
        assert_eq!(
            key.decrypt(ENCRYPT),
            Ok((MESSAGE.to_owned(), APPID.to_owned()))
        );
    }

    #[test]
    fn padding_fills_to_32_bytes_even_when_already_aligned() {
        let key = AesKey::parse(&Secret::new(KEY)).unwrap_or_else(|e| panic!("{e:?}"));
        // 16 + 4 + 8 + 4 = 32 bytes before padding: a whole block of 32 is added.
        let sealed = key.encrypt(RANDOM, "12345678", "wx12");
        let bytes = STANDARD.decode(&sealed).unwrap_or_default();
        assert_eq!(bytes.len(), 64);
        assert_eq!(key.decrypt(&sealed), Ok(("12345678".into(), "wx12".into())));
    }

    #[test]
    fn a_bad_key_is_refused_without_repeating_it() {
        assert_eq!(
            AesKey::parse(&Secret::new("short")).err(),
            Some(AesKeyError::Length(5))
        );
        assert_eq!(
            AesKey::parse(&Secret::new("!".repeat(43))).err(),
            Some(AesKeyError::NotBase64)
        );
        assert_eq!(
            format!("{:?}", AesKey::parse(&Secret::new(KEY))),
            "Ok(AesKey(***))"
        );
    }

    #[test]
    fn signatures_sort_their_parts() {
        // The documented example's shape: sha1 of the three parts sorted lexically.
        let token = Secret::new("token");
        assert_eq!(
            signature(&token, "1409304348", "xxxxxx"),
            sorted_sha1(&["1409304348", "token", "xxxxxx"])
        );
        assert_eq!(
            sorted_sha1(&["b", "a"]),
            "da23614e02469a0d7c7bd1bdab5c9c474b1904dc" // sha1("ab")
        );
        assert_eq!(
            msg_signature(&token, "1", "n", "E"),
            sorted_sha1(&["1", "E", "n", "token"])
        );
    }

    #[test]
    fn modes_parse_in_any_case() {
        assert_eq!("SAFE".parse::<PushMode>(), Ok(PushMode::Safe));
        assert_eq!("compatible".parse::<PushMode>(), Ok(PushMode::Compat));
        assert!("aes".parse::<PushMode>().is_err());
        assert!(!PushMode::Plain.encrypts());
    }
}
