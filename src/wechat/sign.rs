//! `delivery_sign`: lowercase hex SHA-1 of `shopid + shop_order_id + appsecret`.
//!
//! The platform signs with SHA-1, not MD5 (the official example vector below proves it).

use sha1::{Digest, Sha1};

use crate::base::secret::Secret;

/// The carrier signature for a request. Without a `shop_order_id` the platform's rule is
/// `SHA1(shopid + appsecret)`; an empty id counts as none.
pub fn delivery_sign(shopid: &str, shop_order_id: Option<&str>, appsecret: &Secret) -> String {
    let mut hasher = Sha1::new();
    hasher.update(shopid.as_bytes());
    if let Some(id) = shop_order_id {
        hasher.update(id.as_bytes());
    }
    hasher.update(appsecret.expose().as_bytes());
    to_hex(&hasher.finalize())
}

/// Checks a signature as the carrier would: exact, lowercase hex, no surrounding spaces.
pub fn verify(shopid: &str, shop_order_id: Option<&str>, appsecret: &Secret, sign: &str) -> bool {
    let expected = delivery_sign(shopid, shop_order_id, appsecret);
    // Compare every byte so the time taken does not hint at how much matched.
    expected.len() == sign.len()
        && expected
            .bytes()
            .zip(sign.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SF_SECRET: &str = "d80400f91e156f63b38886e616d84590";
    pub(crate) const DADA_SECRET: &str = "1c6f40492d6d89caaad80b85f7d31670";

    /// Every vector in the reference (shopid, shop_order_id, secret, expected).
    pub(crate) const VECTORS: [(&str, Option<&str>, &str, &str); 8] = [
        (
            "test_shop_id",
            Some("test_shop_order_id"),
            "test_app_secrect",
            "a93d8d6bae9a9483c1b1d4e8670e7f6226ec94cb",
        ),
        (
            "test_shop_id",
            None,
            "test_app_secrect",
            "9930e1dbf1665bba7e4a88059d872aad8194d21d",
        ),
        (
            "1534713176",
            Some("NC16358315063430004314151882"),
            SF_SECRET,
            "ea109e1ed2b3b9e72c601266296618094221337c",
        ),
        (
            "1534713176",
            Some("NC16355158526160004316829057"),
            SF_SECRET,
            "10ef77787180af027e81afad6fd1107f8646f643",
        ),
        (
            "1534713176",
            Some("SIM-0001"),
            SF_SECRET,
            "8f27f57f373fdd4e8d11119f37f9bb070ec85c96",
        ),
        (
            "dadaaee18818d97e236",
            Some("SIM-0001"),
            DADA_SECRET,
            "c8f77c04da1d9cee6bbd628cada411f70fd2a607",
        ),
        (
            "test_shop_id",
            Some("订单001"),
            "test_app_secrect",
            "3f6c5185eabb02b9584c3a2cc0741a37d35aba2f",
        ),
        ("1", None, "2", "7b52009b64fd0a2a49e6d8a939753077792b0554"),
    ];

    #[test]
    fn every_reference_vector_signs() {
        for (shopid, order, secret, expected) in VECTORS {
            assert_eq!(
                delivery_sign(shopid, order, &Secret::new(secret)),
                expected,
                "{shopid} {order:?}"
            );
        }
    }

    #[test]
    fn verify_accepts_exact_and_refuses_near_misses() {
        let secret = Secret::new("test_app_secrect");
        let good = "a93d8d6bae9a9483c1b1d4e8670e7f6226ec94cb";
        assert!(verify(
            "test_shop_id",
            Some("test_shop_order_id"),
            &secret,
            good
        ));
        assert!(!verify(
            "test_shop_id",
            Some("test_shop_order_id"),
            &secret,
            &format!("{good} ")
        ));
        assert!(!verify(
            "test_shop_id",
            Some("test_shop_order_id"),
            &secret,
            &good.to_uppercase()
        ));
        assert!(!verify("test_shop_id", Some("other"), &secret, good));
    }
}
