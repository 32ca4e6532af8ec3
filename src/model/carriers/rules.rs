//! A carrier's rules for the merchant's order calls (`order_rules` in its profile): tips,
//! cancels and their fee, re-dispatch, and `order/pre_add`'s `delivery_token`. Where the
//! platform documents a carrier's rule the built-in file says so; where it is silent, the file
//! states ours.

use rust_i18n::t;
use serde::Deserialize;

use crate::model::statuses::Status;

/// Statuses an order may be re-dispatched from (`order/readd`): cancelled (103, 203, 204,
/// 205, 501, 502) or ended after a delivery exception (401). The platform says "cancelled,
/// expired or in a delivery exception" without codes; this is our reading.
pub const READD_FROM: [Status; 8] = [
    Status::MerchantCancelled,
    Status::PickupCancelledByMerchant,
    Status::PickupCancelledByRider,
    Status::PickupCancelledMerchantFault,
    Status::Returned,
    Status::CarrierCancelled,
    Status::ForceMajeureCancelled,
    Status::ReturningMerchantCancelled,
];

/// Statuses after which the merchant confirms goods brought back (`order/confirm_return`).
pub const RETURNING: [Status; 3] = [
    Status::ReturningMerchantCancelled,
    Status::RecipientUnreachable,
    Status::RecipientRefused,
];

/// The `order_rules` of a profile. Every part is optional; absent parts take the defaults
/// below.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderRules {
    pub tips: Tips,
    pub cancel: CancelRule,
    /// Whether `order/readd` is taken. Default: yes.
    pub readd: bool,
    /// Seconds a `delivery_token` from `order/pre_add` stays valid; none is issued without it.
    pub delivery_token_seconds: Option<u64>,
    /// Whether `order/pre_add` answers the fee, distance and time. Default: yes; MTPS answers
    /// only its result code.
    pub quote: bool,
}

impl Default for OrderRules {
    fn default() -> Self {
        OrderRules {
            tips: Tips::default(),
            cancel: CancelRule::default(),
            readd: true,
            delivery_token_seconds: None,
            quote: true,
        }
    }
}

/// `order/addtips`: only at 101, each tip above the last; these limits on top.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tips {
    /// The carrier takes tips at all. Default: yes.
    pub supported: bool,
    /// The largest tip, in yuan.
    pub max: Option<f64>,
    /// How many tips one order takes.
    pub times: Option<u32>,
    /// The only amounts taken, in yuan.
    pub tiers: Option<Vec<f64>>,
    /// A tip may not be above the goods value (`cargo.goods_value`).
    pub within_goods_value: bool,
}

impl Default for Tips {
    fn default() -> Self {
        Tips {
            supported: true,
            max: None,
            times: None,
            tiers: None,
            within_goods_value: false,
        }
    }
}

impl Tips {
    /// Why `tip` is refused after `given` earlier tips (the last one `last`), or `None`.
    pub fn refusal(&self, tip: f64, last: f64, given: u32, goods_value: f64) -> Option<String> {
        if !tip.is_finite() || tip <= 0.0 {
            return Some(format!("tips {tip} must be a positive amount in yuan"));
        }
        if tip <= last {
            return Some(format!(
                "tips {tip} is not above the current tip {last}; a new tip replaces the old one and must be larger"
            ));
        }
        if let Some(times) = self.times
            && given >= times
        {
            return Some(format!(
                "this order already took {given} tips; the carrier takes at most {times}"
            ));
        }
        if let Some(max) = self.max
            && tip > max
        {
            return Some(format!(
                "tips {tip} is above the carrier's cap of {max} yuan"
            ));
        }
        if let Some(tiers) = &self.tiers
            && !tiers.iter().any(|t| (t - tip).abs() < 0.005)
        {
            let list: Vec<String> = tiers.iter().map(|t| t.to_string()).collect();
            return Some(format!(
                "tips {tip} is not one of the carrier's tiers: {}",
                list.join(", ")
            ));
        }
        if self.within_goods_value && tip > goods_value {
            return Some(format!(
                "tips {tip} is above the goods value ({goods_value} yuan)"
            ));
        }
        None
    }
}

/// `order/precancel` and `order/cancel`: when a cancel is taken and what it costs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CancelRule {
    /// Statuses a cancel is taken at. Default: every live status before the goods come back
    /// (101, 102, 201, 202, 301).
    pub allowed_at: Vec<u16>,
    /// The carrier's answer to a cancel at another live status.
    pub refusal: Refusal,
    /// Yuan charged for a cancel before a rider is assigned.
    pub fee_before_rider: f64,
    /// Yuan charged for a cancel once a rider is assigned (after the grace below).
    pub fee_after_rider: f64,
    /// Seconds after a rider is assigned during which a cancel is still free.
    pub grace_seconds: u64,
}

impl Default for CancelRule {
    fn default() -> Self {
        CancelRule {
            allowed_at: vec![101, 102, 201, 202, 301],
            refusal: Refusal::default(),
            fee_before_rider: 0.0,
            fee_after_rider: 2.0,
            grace_seconds: 0,
        }
    }
}

/// A carrier's refusal: `errcode` 0, this `resultcode` and `resultmsg`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    pub resultcode: i64,
    pub resultmsg: String,
}

impl Default for Refusal {
    fn default() -> Self {
        Refusal {
            resultcode: CANCEL_REFUSED,
            resultmsg: "the carrier does not take a cancel in this status".to_owned(),
        }
    }
}

/// Our `resultcode` for a cancel the carrier's rule refuses, where its own is unknown.
pub const CANCEL_REFUSED: i64 = 9110;

/// What a cancel costs now: the fee and the `desc` that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub deduct_fee: f64,
    pub desc: String,
}

impl CancelRule {
    pub fn allows(&self, status: Status) -> bool {
        self.allowed_at.contains(&status.code())
    }

    /// The fee for a cancel now, `rider_for` seconds after a rider was assigned (`None`
    /// before one is).
    pub fn quote(&self, rider_for: Option<u64>) -> Quote {
        match rider_for {
            None => Quote {
                deduct_fee: self.fee_before_rider,
                desc: format!(
                    "no rider assigned yet: a cancel costs {} yuan",
                    self.fee_before_rider
                ),
            },
            Some(secs) if secs < self.grace_seconds => Quote {
                deduct_fee: self.fee_before_rider,
                desc: format!(
                    "rider assigned {secs} s ago, within the free {} s: a cancel costs {} yuan",
                    self.grace_seconds, self.fee_before_rider
                ),
            },
            Some(_) => Quote {
                deduct_fee: self.fee_after_rider,
                desc: format!(
                    "a rider is assigned: a cancel costs {} yuan",
                    self.fee_after_rider
                ),
            },
        }
    }
}

/// Checks a profile's rules for values that cannot work, in words for a located problem;
/// `place` says where the block is (` in `order_rules` in carrier `x``, from the catalogue).
pub fn problems(rules: &OrderRules, place: &str) -> Vec<String> {
    let mut out = Vec::new();
    for code in &rules.cancel.allowed_at {
        match Status::from_code(*code) {
            None => out.push(
                t!(
                    "carrier_file.allowed_at_unknown",
                    place = place,
                    code = code
                )
                .into_owned(),
            ),
            Some(s) if s.is_terminal() => out
                .push(t!("carrier_file.allowed_at_final", place = place, code = code).into_owned()),
            Some(_) => {}
        }
    }
    let money = [
        ("cancel.fee_before_rider", rules.cancel.fee_before_rider),
        ("cancel.fee_after_rider", rules.cancel.fee_after_rider),
    ];
    for (name, value) in money {
        if !value.is_finite() || value < 0.0 {
            out.push(
                t!(
                    "carrier_file.negative_fee",
                    name = name,
                    place = place,
                    value = value
                )
                .into_owned(),
            );
        }
    }
    if rules.tips.max.is_some_and(|m| !m.is_finite() || m <= 0.0) {
        out.push(t!("carrier_file.tips_max", place = place).into_owned());
    }
    if rules.delivery_token_seconds == Some(0) {
        out.push(t!("carrier_file.token_seconds", place = place).into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tips_follow_the_carrier_rules() {
        let sf = Tips {
            max: Some(200.0),
            times: Some(10),
            ..Tips::default()
        };
        assert_eq!(sf.refusal(5.0, 0.0, 0, 10.0), None);
        assert!(sf.refusal(5.0, 5.0, 1, 10.0).is_some(), "not larger");
        assert!(sf.refusal(201.0, 5.0, 1, 10.0).is_some(), "over the cap");
        assert!(sf.refusal(20.0, 5.0, 10, 10.0).is_some(), "an 11th tip");
        let dada = Tips {
            max: Some(30.0),
            within_goods_value: true,
            ..Tips::default()
        };
        assert!(dada.refusal(31.0, 0.0, 0, 100.0).is_some());
        assert!(dada.refusal(20.0, 0.0, 0, 15.0).is_some(), "above goods");
        assert_eq!(dada.refusal(15.0, 0.0, 0, 15.0), None);
        let ss = Tips {
            tiers: Some(vec![2.0, 3.0, 5.0]),
            ..Tips::default()
        };
        assert_eq!(ss.refusal(3.0, 2.0, 1, 0.0), None);
        assert!(ss.refusal(4.0, 2.0, 1, 0.0).is_some(), "not a tier");
    }

    #[test]
    fn cancel_fees_follow_the_rider() {
        let rule = CancelRule {
            grace_seconds: 60,
            ..CancelRule::default()
        };
        assert_eq!(rule.quote(None).deduct_fee, 0.0);
        assert_eq!(rule.quote(Some(10)).deduct_fee, 0.0);
        assert_eq!(rule.quote(Some(60)).deduct_fee, 2.0);
        assert!(rule.allows(Status::Delivering));
        assert!(!rule.allows(Status::Returned));
    }

    #[test]
    fn rules_read_from_json_with_defaults() {
        let Ok(rules) = serde_json::from_value::<OrderRules>(serde_json::json!({
            "tips": {"supported": false},
            "readd": false,
        })) else {
            panic!("rules")
        };
        assert!(!rules.tips.supported);
        assert!(!rules.readd);
        assert_eq!(rules.cancel, CancelRule::default());
        let Ok(default) = serde_json::from_value::<OrderRules>(serde_json::json!({})) else {
            panic!("empty rules")
        };
        assert!(default.readd);
        assert!(
            serde_json::from_value::<OrderRules>(serde_json::json!({"tip": {}})).is_err(),
            "unknown keys are refused"
        );
        let bad = OrderRules {
            cancel: CancelRule {
                allowed_at: vec![302, 999],
                ..CancelRule::default()
            },
            ..OrderRules::default()
        };
        assert_eq!(problems(&bad, "").len(), 2);
    }
}
