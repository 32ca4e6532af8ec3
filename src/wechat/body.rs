//! Request and answer bodies: the status update built once from a step, `order/get`'s question,
//! and the two-level answer (`errcode` WeChat's, `resultcode` the carrier's) parsed once.

use serde::{Deserialize, Serialize};

use crate::base::secret::{self, REDACTED, Secret};
use crate::model::carriers::Call;
use crate::model::plan::{ScenarioPlan, StepPlan};
use crate::wechat::sign::delivery_sign;

/// How a body's `delivery_sign` is written.
#[derive(Debug, Clone, Copy)]
pub enum Signature<'a> {
    /// The real SHA-1, as sent.
    Computed,
    /// This text in its place: a report's `***`, a plan's placeholder.
    Shown(&'a str),
}

impl Signature<'_> {
    fn for_order(self, scenario: &ScenarioPlan) -> String {
        match self {
            Signature::Computed => delivery_sign(
                &scenario.shopid,
                Some(&scenario.shop_order_id),
                &scenario.appsecret,
            ),
            Signature::Shown(text) => text.to_owned(),
        }
    }
}

/// The JSON body of `realmock_update_order` / `test_update_order`: exactly the documented
/// fields, numbers as numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOrder {
    pub shopid: String,
    pub shop_order_id: String,
    pub action_time: i64,
    pub order_status: u16,
    pub action_msg: String,
    /// Only realmock is signed; the sandbox call has no such field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_sign: Option<String>,
}

impl UpdateOrder {
    /// The body that moves `scenario`'s order to `step`'s status at `action_time` (Unix
    /// seconds). The runner, the plan and the reports all build it here, so what they show is
    /// what is sent.
    pub fn for_step(
        scenario: &ScenarioPlan,
        step: &StepPlan,
        action_time: i64,
        signature: Signature<'_>,
    ) -> UpdateOrder {
        UpdateOrder {
            shopid: scenario.shopid.clone(),
            shop_order_id: scenario.shop_order_id.clone(),
            action_time,
            order_status: step.status.code(),
            action_msg: step.action_msg.clone(),
            delivery_sign: match scenario.carrier.call {
                Call::Realmock => Some(signature.for_order(scenario)),
                Call::TestUpdateOrder | Call::None => None,
            },
        }
    }
}

/// The body of `order/get`.
#[derive(Debug, Clone, Serialize)]
pub struct OrderGet {
    pub shopid: String,
    pub shop_order_id: String,
    pub delivery_sign: String,
}

impl OrderGet {
    pub fn for_order(scenario: &ScenarioPlan, signature: Signature<'_>) -> OrderGet {
        OrderGet {
            shopid: scenario.shopid.clone(),
            shop_order_id: scenario.shop_order_id.clone(),
            delivery_sign: signature.for_order(scenario),
        }
    }
}

/// A request as reports show it: method, path with the token as `***`, and the body.
#[derive(Debug, Clone, Serialize)]
pub struct ShownRequest<B> {
    pub method: &'static str,
    pub path: String,
    pub body: B,
}

impl<B> ShownRequest<B> {
    /// A POST to `path`, its access token shown as `***`.
    pub fn post(path: &str, body: B) -> ShownRequest<B> {
        ShownRequest {
            method: "POST",
            path: format!(
                "{path}?{}={REDACTED}",
                crate::wechat::api::ACCESS_TOKEN_PARAM
            ),
            body,
        }
    }
}

/// The platform's answer: `errcode` is WeChat's, `resultcode` the carrier's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub errcode: i64,
    pub errmsg: String,
    pub resultcode: i64,
    pub resultmsg: String,
}

impl Answer {
    /// The same answer with these secrets blanked out of its messages: a carrier may echo
    /// what it was sent.
    pub fn redacted(mut self, secrets: &[&Secret]) -> Answer {
        self.errmsg = secret::redact(&self.errmsg, secrets);
        self.resultmsg = secret::redact(&self.resultmsg, secrets);
        self
    }

    /// `errcode` absent or 0 and `resultcode` 0.
    pub fn is_success(&self) -> bool {
        self.errcode == crate::wechat::errcode::OK && self.resultcode == 0
    }
}

/// What `order/get` (and `order/add`) say of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderState {
    pub order_status: i64,
    pub waybill_id: String,
}

/// Messages from outside are cut to this many characters.
const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Deserialize)]
struct RawAnswer {
    errcode: Option<i64>,
    errmsg: Option<String>,
    resultcode: Option<i64>,
    resultmsg: Option<String>,
    // Read leniently: an odd type here must not make the whole answer unreadable.
    order_status: Option<serde_json::Value>,
    waybill_id: Option<serde_json::Value>,
}

/// Reads an answer body. `errcode` may be absent (success); without `errcode` or `resultcode`
/// the answer says nothing about the outcome, which we refuse to count as success.
pub fn parse_answer(text: &str) -> Result<Answer, String> {
    parse_answer_and_state(text).map(|(answer, _)| answer)
}

/// Reads an answer body and, when it carries an order status, the order's state.
pub fn parse_answer_and_state(text: &str) -> Result<(Answer, Option<OrderState>), String> {
    let raw: RawAnswer =
        serde_json::from_str(text).map_err(|e| format!("not the JSON we expect ({e})"))?;
    let errcode = raw.errcode.unwrap_or(crate::wechat::errcode::OK);
    let resultcode = match (raw.resultcode, errcode) {
        (Some(code), _) => code,
        (None, 0) if raw.errcode.is_some() => 0,
        (None, 0) => return Err("neither errcode nor resultcode in the answer".to_owned()),
        (None, _) => 0,
    };
    let state = raw
        .order_status
        .and_then(|s| s.as_i64())
        .map(|order_status| OrderState {
            order_status,
            waybill_id: raw
                .waybill_id
                .as_ref()
                .and_then(|w| w.as_str())
                .unwrap_or_default()
                .to_owned(),
        });
    let answer = Answer {
        errcode,
        errmsg: cut(&raw.errmsg.unwrap_or_default()),
        resultcode,
        resultmsg: cut(&raw.resultmsg.unwrap_or_default()),
    };
    Ok((answer, state))
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_two_level_model() {
        assert_eq!(
            parse_answer(r#"{"resultcode":0,"resultmsg":"ok"}"#),
            Ok(Answer {
                errcode: 0,
                errmsg: String::new(),
                resultcode: 0,
                resultmsg: "ok".into()
            })
        );
        let rejected = parse_answer(r#"{"errcode":0,"resultcode":2003,"resultmsg":"签名错误"}"#);
        assert_eq!(
            rejected.map(|a| (a.is_success(), a.resultcode)),
            Ok((false, 2003))
        );
        let platform = parse_answer(r#"{"errcode":930565,"errmsg":"order finished"}"#);
        assert_eq!(
            platform.map(|a| (a.is_success(), a.errcode)),
            Ok((false, 930565))
        );
        assert_eq!(
            parse_answer(r#"{"errcode":0,"errmsg":"ok"}"#).map(|a| a.is_success()),
            Ok(true)
        );
        assert!(parse_answer(r#"{"hello":1}"#).is_err());
        let long = format!(r#"{{"resultcode":5,"resultmsg":"{}"}}"#, "x".repeat(10_000));
        assert_eq!(
            parse_answer(&long).map(|a| a.resultmsg.chars().count()),
            Ok(501)
        );
        let echoed = Answer {
            resultmsg: "bad sign for secret-123456".into(),
            ..Answer::default()
        };
        assert_eq!(
            echoed.redacted(&[&Secret::new("secret-123456")]).resultmsg,
            "bad sign for ***"
        );
        assert!(parse_answer("<html>").is_err());
    }

    #[test]
    fn an_answer_with_a_status_carries_the_order_state() {
        let read = parse_answer_and_state(r#"{"errcode":0,"order_status":202,"waybill_id":"WB1"}"#);
        assert_eq!(
            read.map(|(_, state)| state),
            Ok(Some(OrderState {
                order_status: 202,
                waybill_id: "WB1".into()
            }))
        );
        let read = parse_answer_and_state(r#"{"errcode":0}"#);
        assert_eq!(read.map(|(_, state)| state), Ok(None));
    }

    #[test]
    fn body_has_exactly_the_documented_fields() {
        let body = UpdateOrder {
            shopid: "test_shop_id".into(),
            shop_order_id: "订单001".into(),
            action_time: 1_700_000_000,
            order_status: 102,
            action_msg: "骑手已接单".into(),
            delivery_sign: None,
        };
        let json = serde_json::to_string(&body).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"shopid":"test_shop_id","shop_order_id":"订单001","action_time":1700000000,"order_status":102,"action_msg":"骑手已接单"}"#
        );
    }
}
