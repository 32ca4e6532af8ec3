//! The default `order/add` body: the carrier profile's `order_defaults` (a plausible store,
//! customer and parcel, in the carrier's city), with the run's order time.

use serde_json::{Map, Value as Json};

use crate::model::carriers::Carrier;

/// The defaults of the five sub-objects for `carrier`, with `order_info.order_time` =
/// `timestamp` unless the profile gives one.
pub fn defaults(carrier: &Carrier, timestamp: i64) -> Map<String, Json> {
    let mut out = carrier.order_defaults.clone();
    if let Some(Json::Object(info)) = out.get_mut("order_info") {
        info.entry("order_time").or_insert(Json::from(timestamp));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value as Json, json};

    use crate::model::plan::ScenarioPlan;
    use crate::scenario::load_plan;
    use crate::scenario::testing::{carriers, ctx, order_of, plans_or_messages};
    use crate::wechat::sign::delivery_sign;

    /// Decimals of a JSON number as serialized.
    fn decimals(value: &Json) -> usize {
        let text = value.to_string();
        text.split_once('.').map_or(0, |(_, d)| d.len())
    }

    #[test]
    fn defaults_for_every_carrier() {
        let table = carriers();
        // A carrier no test call reaches cannot be played (its scenarios are refused).
        let playable = table
            .all()
            .iter()
            .filter(|c| c.call != crate::model::carriers::Call::None);
        for carrier in playable {
            let order = order_of(&carrier.id, " true");
            let body = &order.body;
            assert_eq!(order.line, 3);
            assert_eq!(order.openid, None);
            assert_eq!(body["shopid"], json!(carrier.account.shopid));
            assert_eq!(body["shop_order_id"], json!("o-20261128-221530-ab12"));
            assert_eq!(body["delivery_id"], json!(carrier.delivery_id));
            assert_eq!(body["shop_no"], json!(carrier.account.shop_no));
            assert!(body.get("delivery_sign").is_none());
            assert!(body.get("openid").is_none());
            for side in ["sender", "receiver"] {
                for key in ["name", "city", "address", "address_detail", "phone"] {
                    assert!(body[side][key].as_str().is_some_and(|s| !s.is_empty()));
                }
                for key in ["lng", "lat"] {
                    assert!(body[side][key].is_f64(), "{side}.{key}");
                    assert_eq!(decimals(&body[side][key]), 6, "{side}.{key}");
                }
            }
            let cargo = &body["cargo"];
            assert!(
                cargo["goods_value"]
                    .as_f64()
                    .is_some_and(|v| v > 0.0 && v <= 5000.0)
            );
            assert!(
                cargo["goods_weight"]
                    .as_f64()
                    .is_some_and(|v| v > 0.0 && v <= 50.0)
            );
            assert_eq!(
                (&cargo["cargo_first_class"], &cargo["cargo_second_class"]),
                (&json!("日用百货"), &json!("超市"))
            );
            assert!(cargo["goods_detail"]["goods"][0]["good_count"].is_u64());
            assert_eq!(body["order_info"]["order_type"], json!(0));
            assert_eq!(body["order_info"]["order_time"], json!(1_795_904_130));
            assert_eq!(body["order_info"]["is_insured"], json!(0));
            for key in ["wxa_path", "img_url", "goods_name"] {
                assert!(body["shop"][key].is_string(), "shop.{key}");
            }
            assert_eq!(body["shop"]["goods_count"], json!(1));
            // Only fields order/add documents.
            let keys: Vec<&str> = body
                .as_object()
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            assert_eq!(
                keys,
                [
                    "cargo",
                    "delivery_id",
                    "order_info",
                    "receiver",
                    "sender",
                    "shop",
                    "shop_no",
                    "shop_order_id",
                    "shopid"
                ]
            );
        }
        assert_eq!(
            order_of("dada", " {}").body["sender"]["city"],
            json!("上海市")
        );
        assert_eq!(
            order_of("sf", " {}").body["sender"]["city"],
            json!("深圳市")
        );
    }

    /// The default body of every carrier, signed as the runner will, is accepted by the
    /// emulator's order/add, and the first realmock/test update then moves the order.
    #[tokio::test]
    async fn the_emulator_accepts_the_default_orders() {
        let table = Arc::new(carriers());
        let emulator = match crate::emulator::Emulator::start(
            ([127, 0, 0, 1], 0).into(),
            table.clone(),
            crate::emulator::Config::default(),
        )
        .await
        {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        };
        let token = emulator.issue_token().expose().to_owned();
        let http = match reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10))
            .build()
        {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let post = |path: String, body: Json| {
            let request = http
                .post(format!(
                    "{}{path}?access_token={token}",
                    emulator.base_url()
                ))
                .json(&body);
            async move {
                match request.send().await {
                    Ok(r) => r.json::<Json>().await.unwrap_or_else(|e| panic!("{e}")),
                    Err(e) => panic!("{e}"),
                }
            }
        };
        let mut ctx = ctx();
        ctx.timestamp = chrono::Utc::now().timestamp();
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/sf_order_created.yaml");
        let sample = match load_plan(&[sample], &table, &ctx) {
            Ok(plan) => plan.scenarios,
            Err(p) => panic!("{p:#?}"),
        };
        let mut plans_of: Vec<Vec<ScenarioPlan>> = vec![sample];
        // A carrier no test call reaches cannot be played (its scenarios are refused).
        let playable = table
            .all()
            .iter()
            .filter(|c| c.call != crate::model::carriers::Call::None);
        for carrier in playable {
            for block in [
                " true",
                "\n  receiver: {name: 王五}\n  openid: oTESTopenid\n",
            ] {
                let text = format!(
                    "carrier: {}\nshop_order_id: \"{{{{scenario}}}}-{{{{repeat}}}}-{{{{uuid}}}}\"\nrepeat: 2\norder:{block}\nsteps: [{{status: 102}}]\n",
                    carrier.id
                );
                let plans = match plans_or_messages(&text, &ctx) {
                    Ok(p) => p,
                    Err(p) => panic!("{p:#?}"),
                };
                assert_eq!(plans.len(), 2);
                plans_of.push(plans);
            }
        }
        for plan in plans_of.iter().flatten() {
            let Some(order) = &plan.order else {
                panic!("no order")
            };
            let sign = delivery_sign(&plan.shopid, Some(&plan.shop_order_id), &plan.appsecret);
            let body = order.signed_body(&sign, Some("oLOCALopenid"));
            let answer = post(crate::wechat::api::Api::Add.path().to_owned(), body.clone()).await;
            assert_eq!(
                answer["errcode"].as_i64().unwrap_or(0),
                0,
                "{answer}\n{body:#}"
            );
            assert_eq!(answer["resultcode"].as_i64(), Some(0), "{answer}");
            assert!(answer["waybill_id"].is_string(), "{answer}");
            assert_eq!(answer["order_status"], json!(101), "{answer}");
            let mut update = json!({
                "shopid": plan.shopid,
                "shop_order_id": plan.shop_order_id,
                "order_status": plan.steps[0].status.code(),
                "action_time": chrono::Utc::now().timestamp(),
                "action_msg": "",
            });
            if plan.carrier.call == crate::model::carriers::Call::Realmock {
                update["delivery_sign"] = json!(sign);
            }
            let answer = post(
                crate::wechat::api::Api::for_call(plan.carrier.call)
                    .map_or("", crate::wechat::api::Api::path)
                    .to_owned(),
                update,
            )
            .await;
            assert_eq!(answer["errcode"].as_i64().unwrap_or(0), 0, "{answer}");
            assert_eq!(answer["resultcode"].as_i64(), Some(0), "{answer}");
        }
        emulator.shutdown().await;
    }
}
