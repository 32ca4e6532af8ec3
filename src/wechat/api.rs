//! The platform's APIs: path, name and the request fields the documentation lists.

use crate::model::carriers::{Call, ORDER_ADD_FIELDS, ORDER_CANCEL_FIELDS};

/// `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`.
pub const TOKEN_PATH: &str = "/cgi-bin/token";
/// `POST /cgi-bin/stable_token` with `{grant_type, appid, secret, force_refresh}`.
pub const STABLE_TOKEN_PATH: &str = "/cgi-bin/stable_token";
/// `POST /cgi-bin/component/api_component_token` with `{component_appid,
/// component_appsecret, component_verify_ticket}`: a third-party platform's token.
pub const COMPONENT_TOKEN_PATH: &str = "/cgi-bin/component/api_component_token";
/// The query parameter every business call carries its access token in.
pub const ACCESS_TOKEN_PARAM: &str = "access_token";

/// `cargo.goods_value` is at most this many yuan (the documented range is (0, 5000]).
pub const GOODS_VALUE_MAX: f64 = 5000.0;
/// `cargo.goods_weight` is at most this many kilograms (the documented range is (0, 50]).
pub const GOODS_WEIGHT_MAX: f64 = 50.0;
/// `cargo.cargo_first_class` and the `cargo_second_class` each takes: the platform's category
/// table (the cargo_first_class enum of the current api_preaddorder / api_addlocalorder pages).
pub const CARGO_CLASSES: [(&str, &[&str]); 20] = [
    (
        "美食夜宵",
        &[
            "零食小吃",
            "香锅/烤鱼",
            "西餐",
            "日韩料理",
            "海鲜/烧烤",
            "快餐/地方菜",
            "小龙虾",
            "披萨",
        ],
    ),
    (
        "甜品饮料",
        &["甜品", "奶茶果汁", "咖啡", "面包/糕点", "冰淇淋"],
    ),
    ("蛋糕", &["蛋糕"]),
    (
        "日用百货",
        &[
            "便利店",
            "水站/奶站",
            "零食/干果",
            "五金日用",
            "粮油调味",
            "文具店",
            "酒水行",
            "地方特产",
            "进口食品",
            "宠物用品",
            "超市",
            "书店",
            "宠物食品用品",
            "办公家居用品",
        ],
    ),
    ("果蔬生鲜", &["果蔬", "海鲜水产", "冷冻速食"]),
    ("鲜花", &["鲜花"]),
    ("医药健康", &["送药", "器材器具"]),
    ("美妆护肤", &["日化美妆"]),
    ("母婴", &["孕婴用品"]),
    ("文件或票务", &["保单", "票务文件", "政府文件", "证件"]),
    ("服饰鞋帽", &["服饰鞋帽综合"]),
    ("洗涤", &["脏衣服收", "干净衣服派"]),
    ("珠宝奢侈品", &["珠宝饰品", "奢侈品"]),
    ("家居家装", &["家具", "装修建材", "厨房卫浴"]),
    ("数码产品", &["数码产品"]),
    ("配件器材", &["配件器材"]),
    ("电商", &["电视购物", "线上商城"]),
    ("现场勘查", &["现场勘查"]),
    ("快递业务", &["快递配送"]),
    ("其他", &["其他"]),
];

/// One API of the platform: the merchant's, all under `/cgi-bin/express/local/business/`, and
/// the carrier's status update under `/cgi-bin/express/local/delivery/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    PreAdd,
    Add,
    ReAdd,
    Get,
    AddTips,
    PreCancel,
    Cancel,
    ConfirmReturn,
    Realmock,
    TestUpdate,
    GetAll,
    ShopGet,
    /// `shop/add` (bindLocalAccount): a third-party call.
    ShopAdd,
    /// `open` (openDelivery): a third-party call.
    Open,
    /// The carrier side's `update_order`, the way a carrier reports a status.
    CarrierUpdate,
}

impl Api {
    pub const ALL: [Api; 15] = [
        Api::PreAdd,
        Api::Add,
        Api::ReAdd,
        Api::Get,
        Api::AddTips,
        Api::PreCancel,
        Api::Cancel,
        Api::ConfirmReturn,
        Api::Realmock,
        Api::TestUpdate,
        Api::GetAll,
        Api::ShopGet,
        Api::ShopAdd,
        Api::Open,
        Api::CarrierUpdate,
    ];

    /// APIs that take no request fields, so an empty body (what SDKs send) is `{}`.
    pub fn takes_no_fields(self) -> bool {
        matches!(self, Api::GetAll | Api::ShopGet | Api::Open)
    }

    /// Third-party APIs: only a third-party platform's token may call them.
    pub fn third_party_only(self) -> bool {
        matches!(self, Api::ShopAdd | Api::Open)
    }

    /// The API that moves a carrier's orders in tests; none for a carrier no test call reaches.
    pub fn for_call(call: Call) -> Option<Api> {
        match call {
            Call::Realmock => Some(Api::Realmock),
            Call::TestUpdateOrder => Some(Api::TestUpdate),
            Call::None => None,
        }
    }

    /// [`Api::for_call`]'s name, `none` for a carrier no test call reaches.
    pub fn call_name(call: Call) -> &'static str {
        Api::for_call(call).map_or("none", Api::name)
    }

    /// The name used in histories, plans and reports: the path after `business/` (after
    /// `local/` for the carrier side's `delivery/update_order`).
    pub fn name(self) -> &'static str {
        match self {
            Api::PreAdd => "order/pre_add",
            Api::Add => "order/add",
            Api::ReAdd => "order/readd",
            Api::Get => "order/get",
            Api::AddTips => "order/addtips",
            Api::PreCancel => "order/precancel",
            Api::Cancel => "order/cancel",
            Api::ConfirmReturn => "order/confirm_return",
            Api::Realmock => "realmock_update_order",
            Api::TestUpdate => "test_update_order",
            Api::GetAll => "delivery/getall",
            Api::ShopGet => "shop/get",
            Api::ShopAdd => "shop/add",
            Api::Open => "open",
            Api::CarrierUpdate => "delivery/update_order",
        }
    }

    /// The path below the endpoint, without the query string.
    pub fn path(self) -> &'static str {
        match self {
            Api::PreAdd => "/cgi-bin/express/local/business/order/pre_add",
            Api::Add => "/cgi-bin/express/local/business/order/add",
            Api::ReAdd => "/cgi-bin/express/local/business/order/readd",
            Api::Get => "/cgi-bin/express/local/business/order/get",
            Api::AddTips => "/cgi-bin/express/local/business/order/addtips",
            Api::PreCancel => "/cgi-bin/express/local/business/order/precancel",
            Api::Cancel => "/cgi-bin/express/local/business/order/cancel",
            Api::ConfirmReturn => "/cgi-bin/express/local/business/order/confirm_return",
            Api::Realmock => "/cgi-bin/express/local/business/realmock_update_order",
            Api::TestUpdate => "/cgi-bin/express/local/business/test_update_order",
            Api::GetAll => "/cgi-bin/express/local/business/delivery/getall",
            Api::ShopGet => "/cgi-bin/express/local/business/shop/get",
            Api::ShopAdd => "/cgi-bin/express/local/business/shop/add",
            Api::Open => "/cgi-bin/express/local/business/open",
            Api::CarrierUpdate => "/cgi-bin/express/local/delivery/update_order",
        }
    }

    /// The request fields the documentation lists.
    pub fn documented_fields(self) -> &'static [&'static str] {
        match self {
            // The model keeps add and cancel's: carrier profiles name required fields from them.
            Api::PreAdd | Api::Add | Api::ReAdd => &ORDER_ADD_FIELDS,
            Api::Get => &["shopid", "shop_order_id", "delivery_sign", "shop_no"],
            Api::AddTips => &[
                "shopid",
                "shop_order_id",
                "shop_no",
                "delivery_sign",
                "waybill_id",
                "openid",
                "tips",
                "remark",
            ],
            Api::ConfirmReturn => &[
                "shopid",
                "shop_order_id",
                "shop_no",
                "delivery_sign",
                "waybill_id",
                "remark",
            ],
            Api::Cancel | Api::PreCancel => &ORDER_CANCEL_FIELDS,
            Api::Realmock => &[
                "shopid",
                "shop_order_id",
                "order_status",
                "action_time",
                "action_msg",
                "delivery_sign",
            ],
            Api::TestUpdate => &[
                "shopid",
                "shop_order_id",
                "order_status",
                "action_time",
                "action_msg",
            ],
            Api::ShopAdd => &["delivery_id"],
            Api::CarrierUpdate => &[
                "wx_token",
                "shopid",
                "shop_order_id",
                "shop_no",
                "waybill_id",
                "action_time",
                "order_status",
                "action_msg",
                "wxa_path",
                "agent",
                "expected_delivery_time",
            ],
            Api::GetAll | Api::ShopGet | Api::Open => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_paths_after_business() {
        for api in Api::ALL {
            let below = if api == Api::CarrierUpdate {
                "/cgi-bin/express/local/"
            } else {
                "/cgi-bin/express/local/business/"
            };
            assert_eq!(api.path(), format!("{below}{}", api.name()));
        }
        assert_eq!(
            Api::CarrierUpdate.path(),
            "/cgi-bin/express/local/delivery/update_order"
        );
        assert_eq!(Api::for_call(Call::Realmock), Some(Api::Realmock));
        assert_eq!(Api::for_call(Call::TestUpdateOrder), Some(Api::TestUpdate));
        assert_eq!(Api::for_call(Call::None), None);
    }

    #[test]
    fn update_bodies_match_the_documented_fields() {
        // The serialized body has exactly the documented fields, signature included only
        // where the API takes one.
        let body = crate::wechat::body::UpdateOrder {
            shopid: "s".into(),
            shop_order_id: "o".into(),
            action_time: 1,
            order_status: 102,
            action_msg: String::new(),
            delivery_sign: Some("x".into()),
        };
        let keys = |body: &crate::wechat::body::UpdateOrder| -> Vec<String> {
            let value = serde_json::to_value(body).unwrap_or_default();
            let mut keys: Vec<String> = value
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort();
            keys
        };
        let mut realmock: Vec<String> = Api::Realmock
            .documented_fields()
            .iter()
            .map(|s| s.to_string())
            .collect();
        realmock.sort();
        assert_eq!(keys(&body), realmock);
        let sandbox = crate::wechat::body::UpdateOrder {
            delivery_sign: None,
            ..body
        };
        let mut test: Vec<String> = Api::TestUpdate
            .documented_fields()
            .iter()
            .map(|s| s.to_string())
            .collect();
        test.sort();
        assert_eq!(keys(&sandbox), test);
    }
}
