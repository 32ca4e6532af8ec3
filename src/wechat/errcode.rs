//! WeChat's error codes, each a named constant with its meaning, and the groups the client acts
//! on. `errcode` is the platform's; `resultcode` the carrier's (see [`result`]).
//!
//! Sources: the reference's code table (`shared/reference/wechat-immediate-delivery.md`, §2b and
//! §4), which cites the official API pages and the platform's common error table.

/// Success (also when `errcode` is absent).
pub const OK: i64 = 0;
/// System busy; try again later.
pub const SYSTEM_BUSY: i64 = -1;
/// The access token is invalid or not the latest (or, from the token endpoint, a bad AppSecret).
pub const INVALID_CREDENTIAL: i64 = 40001;
/// `grant_type` must be `client_credential`.
pub const INVALID_GRANT_TYPE: i64 = 40002;
/// The appid is invalid.
pub const INVALID_APPID: i64 = 40013;
/// The access token is invalid (an expired one sometimes gets this rather than 42001).
pub const INVALID_ACCESS_TOKEN: i64 = 40014;
/// No such API path.
pub const INVALID_URL: i64 = 40066;
/// The AppSecret is invalid.
pub const INVALID_APPSECRET: i64 = 40125;
/// The caller's IP is not in the app's whitelist.
pub const IP_NOT_WHITELISTED: i64 = 40164;
/// The AppSecret is frozen.
pub const APPSECRET_FROZEN: i64 = 40243;
/// `open`: the Mini Program is not verified (未认证).
pub const NOT_VERIFIED: i64 = 43016;
/// No access token on the call.
pub const ACCESS_TOKEN_MISSING: i64 = 41001;
/// No appid on the token call.
pub const APPID_MISSING: i64 = 41002;
/// No secret on the token call.
pub const APPSECRET_MISSING: i64 = 41004;
/// The access token has expired.
pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
/// The API takes POST only.
pub const REQUIRE_POST: i64 = 43002;
/// The POST body is empty.
pub const EMPTY_POST_DATA: i64 = 44002;
/// The API's daily quota is spent.
pub const DAILY_QUOTA: i64 = 45009;
/// The API's minute quota is spent; retry in the next minute.
pub const MINUTE_QUOTA: i64 = 45011;
/// The body is not well-formed JSON (or XML).
pub const DATA_FORMAT_ERROR: i64 = 47001;
/// The token is not authorised for this API (a token of the wrong kind).
pub const API_UNAUTHORIZED: i64 = 48001;
/// A third-party call made without a third-party (component) token.
pub const NOT_THIRD_PARTY: i64 = 86000;
/// 微信平台系统错误: the platform failed.
pub const PLATFORM_ERROR: i64 = 930_555;
/// 配送公司超时: the carrier did not answer in time.
pub const CARRIER_TIMEOUT: i64 = 930_556;
/// 配送公司系统错误: the carrier failed, or realmock was used on a sandbox (TEST) order.
pub const CARRIER_SYSTEM_ERROR: i64 = 930_557;
/// 配送公司逻辑错误.
pub const CARRIER_LOGIC_ERROR: i64 = 930_558;
/// openid 无效.
pub const INVALID_OPENID: i64 = 930_559;
/// 未绑定的商户号: the shop is not bound to the app.
pub const SHOP_NOT_BOUND: i64 = 930_560;
/// 参数错误: a field is missing or wrong.
pub const ARGS_ERROR: i64 = 930_561;
/// 配送单已经存在: `order/add` for an order that exists.
pub const ORDER_EXISTS: i64 = 930_562;
/// 配送单不存在.
pub const ORDER_NOT_FOUND: i64 = 930_563;
/// 调用无配额: no order calls left.
pub const NO_QUOTA: i64 = 930_564;
/// 配送单已结束: the order has ended.
pub const ORDER_FINISHED: i64 = 930_565;
/// `shop arg error`: a bad `shop` object.
pub const SHOP_ARG_ERROR: i64 = 930_567;
/// `open`: personal Mini Programs cannot open immediate delivery (不支持个人类型小程序).
pub const PERSONAL_APP: i64 = 930_568;
/// `open`: immediate delivery is already open (已经开通不需要再开通).
pub const ALREADY_OPEN: i64 = 930_569;
/// `cargo_first_class or cargo_second_class invalid`: a category the platform's table lacks, or
/// a second level that is not its first level's (observed: a community thread, see the
/// reference's §2b).
pub const CARGO_CLASS_INVALID: i64 = 930_570;
/// `open`: the merchant has no beta access (该商户没有内测权限).
pub const NO_BETA_ACCESS: i64 = 930_571;
/// The `shop` object's `img_url`, `goods_name` or `goods_count` is empty or invalid.
pub const SHOP_FIELDS_INVALID: i64 = 9_300_535;

/// Every code above with its meaning, for messages and the emulator's answers.
const MEANINGS: &[(i64, &str)] = &[
    (SYSTEM_BUSY, "system busy"),
    (INVALID_CREDENTIAL, "invalid credential"),
    (INVALID_GRANT_TYPE, "invalid grant_type"),
    (INVALID_APPID, "invalid appid"),
    (INVALID_ACCESS_TOKEN, "invalid access_token"),
    (INVALID_URL, "invalid url"),
    (INVALID_APPSECRET, "invalid appsecret"),
    (IP_NOT_WHITELISTED, "invalid ip, not in whitelist"),
    (APPSECRET_FROZEN, "appsecret is frozen"),
    (ACCESS_TOKEN_MISSING, "access_token missing"),
    (APPID_MISSING, "appid missing"),
    (APPSECRET_MISSING, "appsecret missing"),
    (ACCESS_TOKEN_EXPIRED, "access_token expired"),
    (REQUIRE_POST, "require POST method"),
    (EMPTY_POST_DATA, "empty post data"),
    (DAILY_QUOTA, "reach max api daily quota limit"),
    (
        MINUTE_QUOTA,
        "api minute-quota reach limit, retry next minute",
    ),
    (DATA_FORMAT_ERROR, "data format error"),
    (API_UNAUTHORIZED, "api unauthorized"),
    (NOT_THIRD_PARTY, "not a third-party call"),
    (PLATFORM_ERROR, "platform error"),
    (CARRIER_TIMEOUT, "delivery timeout"),
    (CARRIER_SYSTEM_ERROR, "delivery system error"),
    (CARRIER_LOGIC_ERROR, "delivery logic error"),
    (INVALID_OPENID, "invalid openid"),
    (SHOP_NOT_BOUND, "shopid need bind first"),
    (ARGS_ERROR, "args error"),
    (ORDER_EXISTS, "order exists"),
    (ORDER_NOT_FOUND, "order not exists"),
    (NO_QUOTA, "no quota"),
    (ORDER_FINISHED, "order finished"),
    (SHOP_ARG_ERROR, "shop arg error"),
    (NOT_VERIFIED, "the mini program is not verified"),
    (PERSONAL_APP, "personal mini programs are not supported"),
    (ALREADY_OPEN, "already open"),
    (
        CARGO_CLASS_INVALID,
        "cargo_first_class or cargo_second_class invalid",
    ),
    (NO_BETA_ACCESS, "no beta access"),
    (
        SHOP_FIELDS_INVALID,
        "shop img_url, goods_name or goods_count invalid",
    ),
];

/// What a code means, when it is one of the platform's.
pub fn meaning(code: i64) -> Option<&'static str> {
    MEANINGS.iter().find(|(c, _)| *c == code).map(|(_, m)| *m)
}

/// An access token that is wrong, stale or expired: fetch a new one once, then try again.
pub const TOKEN_REFUSED: [i64; 3] = [
    INVALID_CREDENTIAL,
    INVALID_ACCESS_TOKEN,
    ACCESS_TOKEN_EXPIRED,
];

/// "Busy, try later": system busy, platform error, carrier timeout, minute quota.
pub const BUSY: [i64; 4] = [SYSTEM_BUSY, PLATFORM_ERROR, CARRIER_TIMEOUT, MINUTE_QUOTA];

/// Busy codes that do not prove a call was not applied: they also come back from a carrier
/// that did apply the update before its answer was lost (system busy, platform error,
/// carrier timeout). Not the minute quota, which is refused before anything is done.
pub const AMBIGUOUS: [i64; 3] = [SYSTEM_BUSY, PLATFORM_ERROR, CARRIER_TIMEOUT];

/// The token endpoint's verdicts on the app credentials themselves: another try gives the same
/// answer (bad AppSecret, wrong grant_type, bad appid, invalid AppSecret, frozen AppSecret,
/// appid missing, secret missing, daily quota spent).
pub const CREDENTIALS_REFUSED: [i64; 8] = [
    INVALID_CREDENTIAL,
    INVALID_GRANT_TYPE,
    INVALID_APPID,
    INVALID_APPSECRET,
    APPSECRET_FROZEN,
    APPID_MISSING,
    APPSECRET_MISSING,
    DAILY_QUOTA,
];

/// The token endpoint's "busy, try later".
pub const TOKEN_BUSY: [i64; 2] = [SYSTEM_BUSY, MINUTE_QUOTA];

/// Carrier answers (`resultcode`, with `errcode` 0). The carriers publish no table; these are
/// the codes our emulator answers with where none is known (the carrier's own sign-error answer
/// is in its profile).
pub mod result {
    /// The carrier's test account does not support that status.
    pub const UNSUPPORTED_STATUS: i64 = 9101;
    /// The carrier does not allow that transition.
    pub const TRANSITION_NOT_ALLOWED: i64 = 9102;
    /// A cancel while the goods are already coming back (303, 304, 305).
    pub const CANCEL_WHILE_RETURNING: i64 = 9103;
    /// `order/addtips` on an order that no longer waits for a rider (only 101 takes tips).
    pub const TIPS_NOT_WAITING: i64 = 9104;
    /// A tip the carrier's rule refuses: not above the last one, over its cap, one too many,
    /// not one of its tiers, above the goods value.
    pub const TIPS_REFUSED: i64 = 9105;
    /// The carrier takes no tips (MTPS).
    pub const TIPS_NOT_SUPPORTED: i64 = 9106;
    /// The carrier does not re-dispatch orders (`order/readd`; MTPS).
    pub const READD_NOT_SUPPORTED: i64 = 9107;
    /// `order/readd` on an order that did not end cancelled, expired or in a delivery exception.
    pub const READD_NOT_ENDED: i64 = 9108;
    /// `order/confirm_return` on an order whose goods are not coming back (303, 304, 305).
    pub const NOT_RETURNING: i64 = 9109;

    /// What one of these codes means.
    pub fn meaning(code: i64) -> Option<&'static str> {
        match code {
            UNSUPPORTED_STATUS => Some("the carrier's test account does not support that status"),
            TRANSITION_NOT_ALLOWED => Some("the carrier does not allow that transition"),
            CANCEL_WHILE_RETURNING => Some("the goods are already coming back"),
            TIPS_NOT_WAITING => Some("tips are taken only while the order waits for a rider"),
            TIPS_REFUSED => Some("the carrier's tip rule refuses that tip"),
            TIPS_NOT_SUPPORTED => Some("the carrier takes no tips"),
            READD_NOT_SUPPORTED => Some("the carrier does not re-dispatch orders"),
            READD_NOT_ENDED => {
                Some("only a cancelled, expired or failed order can be re-dispatched")
            }
            NOT_RETURNING => Some("the goods are not coming back"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_member_has_a_meaning() {
        for code in TOKEN_REFUSED
            .iter()
            .chain(&BUSY)
            .chain(&CREDENTIALS_REFUSED)
            .chain(&TOKEN_BUSY)
        {
            assert!(meaning(*code).is_some(), "{code} has no meaning");
        }
    }

    #[test]
    fn codes_are_the_documented_numbers() {
        // Literal numbers on purpose: a wrong constant must not confirm itself.
        assert_eq!(ORDER_NOT_FOUND, 930563);
        assert_eq!(ORDER_EXISTS, 930562);
        assert_eq!(ARGS_ERROR, 930561);
        assert_eq!(TOKEN_REFUSED, [40001, 40014, 42001]);
        assert_eq!(BUSY, [-1, 930555, 930556, 45011]);
        assert_eq!(
            CREDENTIALS_REFUSED,
            [40001, 40002, 40013, 40125, 40243, 41002, 41004, 45009]
        );
        assert_eq!(meaning(930565), Some("order finished"));
        assert_eq!(meaning(12345), None);
        assert_eq!(
            result::meaning(9102),
            Some("the carrier does not allow that transition")
        );
    }
}
