//! The platform's APIs: path, name and the request fields the documentation lists.

use crate::model::carriers::{Call, ORDER_ADD_FIELDS, ORDER_CANCEL_FIELDS};

/// `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`.
pub const TOKEN_PATH: &str = "/cgi-bin/token";
/// `POST /cgi-bin/stable_token` with `{grant_type, appid, secret, force_refresh}`.
pub const STABLE_TOKEN_PATH: &str = "/cgi-bin/stable_token";
/// The query parameter every business call carries its access token in.
pub const ACCESS_TOKEN_PARAM: &str = "access_token";

/// One business API, all under `/cgi-bin/express/local/business/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    PreAdd,
    Add,
    Get,
    Cancel,
    Realmock,
    TestUpdate,
    GetAll,
    ShopGet,
}

impl Api {
    pub const ALL: [Api; 8] = [
        Api::PreAdd,
        Api::Add,
        Api::Get,
        Api::Cancel,
        Api::Realmock,
        Api::TestUpdate,
        Api::GetAll,
        Api::ShopGet,
    ];

    /// The API that moves a carrier's orders.
    pub fn for_call(call: Call) -> Api {
        match call {
            Call::Realmock => Api::Realmock,
            Call::TestUpdateOrder => Api::TestUpdate,
        }
    }

    /// The name used in histories, plans and reports: the path after `business/`.
    pub fn name(self) -> &'static str {
        match self {
            Api::PreAdd => "order/pre_add",
            Api::Add => "order/add",
            Api::Get => "order/get",
            Api::Cancel => "order/cancel",
            Api::Realmock => "realmock_update_order",
            Api::TestUpdate => "test_update_order",
            Api::GetAll => "delivery/getall",
            Api::ShopGet => "shop/get",
        }
    }

    /// The path below the endpoint, without the query string.
    pub fn path(self) -> &'static str {
        match self {
            Api::PreAdd => "/cgi-bin/express/local/business/order/pre_add",
            Api::Add => "/cgi-bin/express/local/business/order/add",
            Api::Get => "/cgi-bin/express/local/business/order/get",
            Api::Cancel => "/cgi-bin/express/local/business/order/cancel",
            Api::Realmock => "/cgi-bin/express/local/business/realmock_update_order",
            Api::TestUpdate => "/cgi-bin/express/local/business/test_update_order",
            Api::GetAll => "/cgi-bin/express/local/business/delivery/getall",
            Api::ShopGet => "/cgi-bin/express/local/business/shop/get",
        }
    }

    /// The request fields the documentation lists.
    pub fn documented_fields(self) -> &'static [&'static str] {
        match self {
            // The model keeps these two: carrier profiles name required fields from them.
            Api::PreAdd | Api::Add => &ORDER_ADD_FIELDS,
            Api::Get => &["shopid", "shop_order_id", "delivery_sign", "shop_no"],
            Api::Cancel => &ORDER_CANCEL_FIELDS,
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
            Api::GetAll | Api::ShopGet => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_paths_after_business() {
        for api in Api::ALL {
            assert_eq!(
                api.path(),
                format!("/cgi-bin/express/local/business/{}", api.name())
            );
        }
        assert_eq!(Api::for_call(Call::Realmock), Api::Realmock);
        assert_eq!(Api::for_call(Call::TestUpdateOrder), Api::TestUpdate);
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
