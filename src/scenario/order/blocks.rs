//! The sub-objects of `order/add` that `order:` may override, and the fields of each that the
//! platform documents (checked by type; the schema is generated from them).

/// What one documented field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Text (a number written without quotes is taken as its text, e.g. a phone number).
    Text,
    /// A JSON number within `min`..=`max`; above `min` only, when `above_min`.
    Number { min: f64, max: f64, above_min: bool },
    /// A whole number within `min..=max`.
    Integer { min: i64, max: i64 },
    /// A mapping, passed through.
    Object,
}

/// One field of an `order/add` sub-object that the platform documents.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub description: &'static str,
}

/// One sub-object of `order/add` (`sender`, `receiver`, …).
#[derive(Debug, Clone, Copy)]
pub struct Block {
    pub key: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
}

const fn text(name: &'static str, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Text,
        description,
    }
}

const fn number(name: &'static str, min: f64, max: f64, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Number {
            min,
            max,
            above_min: false,
        },
        description,
    }
}

const fn positive(name: &'static str, max: f64, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Number {
            min: 0.0,
            max,
            above_min: true,
        },
        description,
    }
}

const fn integer(name: &'static str, min: i64, max: i64, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Integer { min, max },
        description,
    }
}

const fn object(name: &'static str, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Object,
        description,
    }
}

/// Most a count or an amount written in the file may be: far above anything real.
pub(super) const BIG: f64 = 1e12;
const UNIX_MAX: i64 = 99_999_999_999;

const ADDRESS: &[Field] = &[
    text(
        "name",
        "Name of the person or store (at most 256 characters).",
    ),
    text("city", "City, e.g. 深圳市."),
    text("address", "Address, e.g. 广东省深圳市南山区深南大道9668号."),
    text(
        "address_detail",
        "Building, floor, room, e.g. 华润万象天地 L1-101.",
    ),
    text(
        "phone",
        "Phone number (at most 64 characters); quote it to keep leading zeros.",
    ),
    number(
        "lng",
        -180.0,
        180.0,
        "Longitude, a number with 6 decimals (GCJ-02 unless coordinate_type is 1).",
    ),
    number(
        "lat",
        -90.0,
        90.0,
        "Latitude, a number with 6 decimals (GCJ-02 unless coordinate_type is 1).",
    ),
    integer(
        "coordinate_type",
        0,
        1,
        "0: Mars coordinates (GCJ-02, the default); 1: Baidu.",
    ),
];

const CARGO: &[Field] = &[
    positive(
        "goods_value",
        5000.0,
        "Value of the goods in yuan, above 0 and at most 5000.",
    ),
    positive(
        "goods_weight",
        50.0,
        "Weight in kg, above 0 and at most 50.",
    ),
    positive("goods_height", BIG, "Height in cm."),
    positive("goods_length", BIG, "Length in cm."),
    positive("goods_width", BIG, "Width in cm."),
    text(
        "cargo_first_class",
        "Category, one of the platform's pairs with cargo_second_class, e.g. 日用百货 / 超市, 果蔬生鲜 / 果蔬, 其他 / 其他.",
    ),
    text(
        "cargo_second_class",
        "Sub-category, paired with cargo_first_class, e.g. 超市.",
    ),
    object(
        "goods_detail",
        "The goods: {goods: [{good_count, good_name, good_price, good_unit}]}.",
    ),
    text("goods_pickup_info", "A note for the rider at pickup."),
    text("goods_delivery_info", "A note for the rider at delivery."),
];

const ORDER_INFO: &[Field] = &[
    text(
        "delivery_service_code",
        "The carrier's service code; SF and Dada leave it out.",
    ),
    integer(
        "order_type",
        0,
        1,
        "0: deliver now (the default); 1: reservation (needs the expected_* times).",
    ),
    integer(
        "order_time",
        0,
        UNIX_MAX,
        "When the order was placed, Unix seconds; SF requires it. Defaults to the start of the run.",
    ),
    integer(
        "expected_delivery_time",
        0,
        UNIX_MAX,
        "Reservation: when to deliver, Unix seconds.",
    ),
    integer(
        "expected_finish_time",
        0,
        UNIX_MAX,
        "Reservation: when delivery should be done, Unix seconds.",
    ),
    integer(
        "expected_pick_time",
        0,
        UNIX_MAX,
        "Reservation: when to pick up, Unix seconds.",
    ),
    text(
        "poi_seq",
        "The store's own order number, shown to the rider.",
    ),
    text("note", "A note on the order."),
    integer(
        "is_insured",
        0,
        1,
        "1: insure the goods (needs declared_value).",
    ),
    positive(
        "declared_value",
        BIG,
        "Declared value in yuan, for insurance.",
    ),
    number("tips", 0.0, BIG, "Tip for the rider in yuan."),
    integer(
        "is_direct_delivery",
        0,
        1,
        "1: deliver directly, no other stops.",
    ),
    number(
        "cash_on_delivery",
        0.0,
        BIG,
        "Cash the rider collects at delivery, in yuan.",
    ),
    number(
        "cash_on_pickup",
        0.0,
        BIG,
        "Cash the rider collects at pickup, in yuan.",
    ),
    integer(
        "rider_pick_method",
        1,
        2,
        "1: from the store to the user; 2: from the user to the store.",
    ),
    integer(
        "is_finish_code_needed",
        0,
        1,
        "1: the recipient gives a code at delivery.",
    ),
    integer(
        "is_pickup_code_needed",
        0,
        1,
        "1: the store gives a code at pickup.",
    ),
];

const SHOP: &[Field] = &[
    text(
        "wxa_path",
        "The Mini Program page the delivery notification opens.",
    ),
    text("img_url", "Picture of the goods, an https URL."),
    text("goods_name", "Name of the goods."),
    integer(
        "goods_count",
        1,
        i64::MAX,
        "How many goods (required without detail_list).",
    ),
    text(
        "wxa_appid",
        "The Mini Program's appid, when it is not the caller.",
    ),
];

/// The five sub-objects of `order/add` that `order:` may override, with their documented
/// fields (the schema is generated from these).
pub const BLOCKS: [Block; 5] = [
    Block {
        key: "sender",
        description: "Where the rider picks up: the store. SF requires it; other carriers may leave it out (`sender: ~`) when the account has a shop_no.",
        fields: ADDRESS,
    },
    Block {
        key: "receiver",
        description: "Where the goods go.",
        fields: ADDRESS,
    },
    Block {
        key: "cargo",
        description: "What is delivered.",
        fields: CARGO,
    },
    Block {
        key: "order_info",
        description: "How the order is delivered.",
        fields: ORDER_INFO,
    },
    Block {
        key: "shop",
        description: "What the recipient's notification shows (not the carrier account: that is the scenario's `shop:`).",
        fields: SHOP,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::order::ORDER_KEYS;

    #[test]
    fn every_block_documents_its_fields() {
        for block in &BLOCKS {
            assert!(!block.description.is_empty());
            for field in block.fields {
                assert!(
                    field.description.ends_with('.'),
                    "{}.{}",
                    block.key,
                    field.name
                );
            }
        }
        let keys: Vec<&str> = BLOCKS.iter().map(|b| b.key).collect();
        assert_eq!(keys, ORDER_KEYS[1..]);
    }

    #[test]
    fn the_blocks_are_those_the_carrier_defaults_give() {
        let keys: Vec<&str> = BLOCKS.iter().map(|b| b.key).collect();
        assert_eq!(keys, crate::model::carriers::ORDER_BLOCKS);
    }
}
