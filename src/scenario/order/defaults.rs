//! The default `order/add` body: a plausible store, customer and parcel, in the carrier's
//! city.

use serde_json::{Map, Value as Json, json};

use crate::model::carriers::Carrier;

/// A plausible store and customer for test orders.
struct Place {
    name: &'static str,
    city: &'static str,
    address: &'static str,
    address_detail: &'static str,
    phone: &'static str,
    lng: f64,
    lat: f64,
}

impl Place {
    fn json(&self) -> Json {
        json!({
            "name": self.name,
            "city": self.city,
            "address": self.address,
            "address_detail": self.address_detail,
            "phone": self.phone,
            "lng": self.lng,
            "lat": self.lat,
        })
    }
}

const SHENZHEN: [Place; 2] = [
    Place {
        name: "simulate 测试门店",
        city: "深圳市",
        address: "广东省深圳市南山区深南大道9668号",
        address_detail: "华润万象天地 L1-101",
        phone: "0755-86000001",
        lng: 113.947521,
        lat: 22.539102,
    },
    Place {
        name: "测试收件人",
        city: "深圳市",
        address: "广东省深圳市南山区科苑南路2666号",
        address_detail: "中国华润大厦 18楼",
        phone: "13800138000",
        lng: 113.950741,
        lat: 22.516223,
    },
];

const SHANGHAI: [Place; 2] = [
    Place {
        name: "simulate 测试门店",
        city: "上海市",
        address: "上海市黄浦区南京东路800号",
        address_detail: "1楼 101室",
        phone: "021-63500001",
        lng: 121.481462,
        lat: 31.236873,
    },
    Place {
        name: "测试收件人",
        city: "上海市",
        address: "上海市静安区南京西路1266号",
        address_detail: "恒隆广场 21楼",
        phone: "13900139000",
        lng: 121.453821,
        lat: 31.228137,
    },
];

/// The defaults of the five sub-objects for `carrier`, with `order_time` = `timestamp`:
/// Dada's orders are in Shanghai, the others' in Shenzhen.
pub fn defaults(carrier: &Carrier, timestamp: i64) -> Map<String, Json> {
    let [sender, receiver] = if carrier.delivery_id == "DADA" {
        &SHANGHAI
    } else {
        &SHENZHEN
    };
    let mut out = Map::new();
    out.insert("sender".to_owned(), sender.json());
    out.insert("receiver".to_owned(), receiver.json());
    out.insert(
        "cargo".to_owned(),
        json!({
            "goods_value": 36.5,
            "goods_weight": 1.2,
            "cargo_first_class": "日用百货",
            "cargo_second_class": "超市",
            "goods_detail": {
                "goods": [
                    {"good_count": 1, "good_name": "测试商品", "good_price": 36.5, "good_unit": "件"},
                ],
            },
        }),
    );
    out.insert(
        "order_info".to_owned(),
        json!({
            "order_type": 0,
            "order_time": timestamp,
            "is_insured": 0,
            "note": "simulate 测试订单 / test order",
        }),
    );
    out.insert(
        "shop".to_owned(),
        json!({
            "wxa_path": "/pages/order/detail",
            "img_url": "https://simulate.dev/img/goods.png",
            "goods_name": "测试商品",
            "goods_count": 1,
        }),
    );
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
        for carrier in table.all() {
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
        for carrier in table.all() {
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
                    .path()
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
