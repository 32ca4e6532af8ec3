//! The sixteen order statuses of WeChat immediate delivery (`order_status`, 101–502).
//!
//! The set, the phases and which statuses end an order are fixed by the platform, so they live
//! in code; which carrier may move to which status is data (see `carriers`).

use std::fmt;

/// The five phases of an order's life, as numbered by the platform (the hundreds digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// 1xx: the carrier accepts the order.
    Acceptance,
    /// 2xx: the rider picks the goods up.
    Pickup,
    /// 3xx: the rider delivers.
    Delivery,
    /// 4xx: the goods go back to the merchant.
    Return,
    /// 5xx: cancelled by the carrier's system or by force majeure.
    Cancellation,
}

impl Phase {
    pub fn number(self) -> u8 {
        match self {
            Phase::Acceptance => 1,
            Phase::Pickup => 2,
            Phase::Delivery => 3,
            Phase::Return => 4,
            Phase::Cancellation => 5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Phase::Acceptance => "acceptance",
            Phase::Pickup => "pickup",
            Phase::Delivery => "delivery",
            Phase::Return => "return",
            Phase::Cancellation => "cancellation",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Phase::Acceptance => "配送公司接单阶段",
            Phase::Pickup => "骑手取货阶段",
            Phase::Delivery => "骑手配送阶段",
            Phase::Return => "骑手返回配送货品阶段",
            Phase::Cancellation => "取消阶段",
        }
    }
}

/// How a terminal status ends the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    Failure,
}

/// One `order_status` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    AwaitingRider,
    RiderAssigned,
    MerchantCancelled,
    AtStore,
    PickedUp,
    PickupCancelledByMerchant,
    PickupCancelledByRider,
    PickupCancelledMerchantFault,
    Delivering,
    Delivered,
    ReturningMerchantCancelled,
    RecipientUnreachable,
    RecipientRefused,
    Returned,
    CarrierCancelled,
    ForceMajeureCancelled,
}

struct Info {
    status: Status,
    code: u16,
    name: &'static str,
    label_en: &'static str,
    label_zh: &'static str,
    terminal: Option<Outcome>,
}

use Outcome::{Failure, Success};

/// The platform's table (order_status.html), in code order.
#[rustfmt::skip]
const TABLE: [Info; 16] = [
    info(Status::AwaitingRider, 101, "awaiting_rider", "waiting for a rider", "等待分配骑手", None),
    info(Status::RiderAssigned, 102, "rider_assigned", "rider assigned", "分配骑手成功", None),
    info(Status::MerchantCancelled, 103, "merchant_cancelled", "merchant cancelled the order", "商家取消订单", Some(Failure)),
    info(Status::AtStore, 201, "at_store", "rider at the store", "骑手到店开始取货", None),
    info(Status::PickedUp, 202, "picked_up", "picked up", "取货成功", None),
    info(Status::PickupCancelledByMerchant, 203, "pickup_cancelled_by_merchant", "pickup failed: merchant cancelled", "取货失败，商家取消", Some(Failure)),
    info(Status::PickupCancelledByRider, 204, "pickup_cancelled_by_rider", "pickup failed: rider cancelled", "取货失败，骑手因自身原因取消", Some(Failure)),
    info(Status::PickupCancelledMerchantFault, 205, "pickup_cancelled_merchant_fault", "pickup failed: rider cancelled, merchant's fault", "取货失败，骑手因商家原因取消", Some(Failure)),
    info(Status::Delivering, 301, "delivering", "out for delivery", "配送中", None),
    info(Status::Delivered, 302, "delivered", "delivered", "配送成功", Some(Success)),
    info(Status::ReturningMerchantCancelled, 303, "returning_merchant_cancelled", "merchant cancelled, goods returning", "商家取消，物品开始返还商家", None),
    info(Status::RecipientUnreachable, 304, "recipient_unreachable", "recipient unreachable, goods returning", "无法联系收货人，物品开始返还", None),
    info(Status::RecipientRefused, 305, "recipient_refused", "recipient refused, goods returning", "收货人拒收，物品开始返还", None),
    info(Status::Returned, 401, "returned", "goods returned to the merchant", "货品返还商户成功", Some(Failure)),
    info(Status::CarrierCancelled, 501, "carrier_cancelled", "cancelled by the carrier's system", "因运力系统原因取消", Some(Failure)),
    info(Status::ForceMajeureCancelled, 502, "force_majeure_cancelled", "cancelled by force majeure", "因不可抗力取消", Some(Failure)),
];

const fn info(
    status: Status,
    code: u16,
    name: &'static str,
    label_en: &'static str,
    label_zh: &'static str,
    terminal: Option<Outcome>,
) -> Info {
    Info {
        status,
        code,
        name,
        label_en,
        label_zh,
        terminal,
    }
}

impl Status {
    /// Every status, in code order.
    pub fn all() -> impl Iterator<Item = Status> {
        TABLE.iter().map(|i| i.status)
    }

    fn info(self) -> &'static Info {
        // TABLE is in declaration order, so the discriminant is the index.
        &TABLE[self as usize]
    }

    pub fn code(self) -> u16 {
        self.info().code
    }

    /// The snake_case name usable in YAML, e.g. `picked_up`.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn label_en(self) -> &'static str {
        self.info().label_en
    }

    pub fn label_zh(self) -> &'static str {
        self.info().label_zh
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.label_en(),
            Lang::Zh => self.label_zh(),
        }
    }

    pub fn phase(self) -> Phase {
        match self.code() / 100 {
            1 => Phase::Acceptance,
            2 => Phase::Pickup,
            3 => Phase::Delivery,
            4 => Phase::Return,
            _ => Phase::Cancellation,
        }
    }

    /// `Some` when the order ends at this status, saying whether it ended well.
    pub fn terminal(self) -> Option<Outcome> {
        self.info().terminal
    }

    pub fn is_terminal(self) -> bool {
        self.terminal().is_some()
    }

    pub fn from_code(code: u16) -> Option<Status> {
        TABLE.iter().find(|i| i.code == code).map(|i| i.status)
    }

    pub fn from_name(name: &str) -> Option<Status> {
        TABLE
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
            .map(|i| i.status)
    }

    /// A code (`202`) or a name (`picked_up`), as written in a scenario.
    pub fn parse(text: &str) -> Option<Status> {
        let text = text.trim();
        match text.parse::<u16>() {
            Ok(code) => Status::from_code(code),
            Err(_) => Status::from_name(text),
        }
    }

    /// The status every order starts in.
    pub const INITIAL: Status = Status::AwaitingRider;
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

/// The language of status labels shown to people: the one of every text (base::i18n).
pub use crate::base::i18n::Lang;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_declaration_order_and_complete() {
        for (index, info) in TABLE.iter().enumerate() {
            assert_eq!(info.status as usize, index, "{}", info.name);
        }
        let codes: Vec<u16> = Status::all().map(Status::code).collect();
        assert_eq!(
            codes,
            [
                101, 102, 103, 201, 202, 203, 204, 205, 301, 302, 303, 304, 305, 401, 501, 502
            ]
        );
    }

    #[test]
    fn terminal_statuses_match_the_platform() {
        let success: Vec<u16> = Status::all()
            .filter(|s| s.terminal() == Some(Outcome::Success))
            .map(Status::code)
            .collect();
        let failure: Vec<u16> = Status::all()
            .filter(|s| s.terminal() == Some(Outcome::Failure))
            .map(Status::code)
            .collect();
        assert_eq!(success, [302]);
        assert_eq!(failure, [103, 203, 204, 205, 401, 501, 502]);
    }

    #[test]
    fn phases_follow_the_hundreds_digit() {
        for status in Status::all() {
            assert_eq!(u16::from(status.phase().number()), status.code() / 100);
        }
    }

    #[test]
    fn parses_codes_and_names() {
        assert_eq!(Status::parse("202"), Some(Status::PickedUp));
        assert_eq!(Status::parse("picked_up"), Some(Status::PickedUp));
        assert_eq!(Status::parse("Delivered"), Some(Status::Delivered));
        assert_eq!(Status::parse("999"), None);
        assert_eq!(Status::parse("teleported"), None);
        for status in Status::all() {
            assert_eq!(Status::parse(status.name()), Some(status));
            assert_eq!(Status::from_code(status.code()), Some(status));
        }
    }

    #[test]
    fn names_are_unique_snake_case() {
        let mut names: Vec<&str> = Status::all().map(Status::name).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 16);
    }
}
