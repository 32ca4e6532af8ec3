//! Plain-text tables of the status model and the carrier table, aligned for a terminal
//! (CJK characters take two columns).

use rust_i18n::t;
use std::collections::BTreeSet;

use crate::model::carriers::Carriers;
use crate::model::statuses::{Lang, Outcome, Status};

/// Columns a character takes on a terminal: 2 for CJK and full-width forms, 1 otherwise.
fn char_width(c: char) -> usize {
    let wide = matches!(
        u32::from(c),
        0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x2FFFD
            | 0x30000..=0x3FFFD
    );
    if wide { 2 } else { 1 }
}

/// Columns a string takes on a terminal.
fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// `text` followed by spaces up to `width` terminal columns.
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(display_width(text));
    format!("{text}{}", " ".repeat(fill))
}

/// Rows as aligned columns two spaces apart, each line ending in `\n`, no trailing blanks.
fn render_rows(rows: &[Vec<String>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|col| {
            rows.iter()
                .filter_map(|row| row.get(col))
                .map(|cell| display_width(cell))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| pad(cell, *width))
            .collect();
        let line = format!("{indent}{}", cells.join("  "));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn terminal_word(outcome: Option<Outcome>, lang: Lang) -> &'static str {
    match (outcome, lang) {
        (Some(Outcome::Success), Lang::En) => "success",
        (Some(Outcome::Failure), Lang::En) => "failure",
        (Some(Outcome::Success), Lang::Zh) => "成功",
        (Some(Outcome::Failure), Lang::Zh) => "失败",
        (None, _) => "—",
    }
}

/// Every status: code, name, phase, both labels and how it ends the order, as aligned columns.
///
/// `lang` picks the headings, the phase and terminal wording, and which label comes first.
pub fn statuses_table(lang: Lang) -> String {
    let header: [&str; 6] = match lang {
        Lang::En => ["CODE", "NAME", "PHASE", "LABEL", "LABEL (ZH)", "TERMINAL"],
        Lang::Zh => ["代码", "名称", "阶段", "说明", "英文说明", "终态"],
    };
    let mut rows = vec![header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    for status in Status::all() {
        let phase = status.phase();
        let (phase_text, first, second) = match lang {
            Lang::En => (phase.name(), status.label_en(), status.label_zh()),
            Lang::Zh => (phase.label_zh(), status.label_zh(), status.label_en()),
        };
        rows.push(vec![
            status.code().to_string(),
            status.name().to_owned(),
            format!("{} {phase_text}", phase.number()),
            first.to_owned(),
            second.to_owned(),
            terminal_word(status.terminal(), lang).to_owned(),
        ]);
    }
    render_rows(&rows, "")
}

pub(super) fn codes(statuses: impl IntoIterator<Item = Status>) -> String {
    statuses
        .into_iter()
        .map(|s| s.code().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every carrier profile: names, account (never the appsecret), supported statuses and
/// the transitions it allows, under the table's version.
pub fn carriers_table(carriers: &Carriers) -> String {
    let lang = crate::base::i18n::current();
    let mut out = format!(
        "{}\n",
        t!(
            "carriers.header",
            version = carriers.version,
            carriers =
                crate::base::i18n::count(carriers.all().len(), crate::base::i18n::Noun::Carrier)
        )
    );
    for carrier in carriers.all() {
        out.push('\n');
        out.push_str(&format!(
            "{} — {} ({})\n",
            carrier.id, carrier.name_en, carrier.name_zh
        ));
        let aliases = if carrier.aliases.is_empty() {
            "—".to_owned()
        } else {
            carrier.aliases.join(", ")
        };
        let fields = [
            (t!("carriers.aliases").into_owned(), aliases),
            ("delivery_id".to_owned(), carrier.delivery_id.clone()),
            (
                t!("carriers.call").into_owned(),
                crate::wechat::api::Api::call_name(carrier.call).to_owned(),
            ),
            (t!("carriers.version").into_owned(), carrier.version.clone()),
            ("shopid".to_owned(), carrier.account.shopid.clone()),
            ("shop_no".to_owned(), carrier.account.shop_no.clone()),
            (
                t!("carriers.supported").into_owned(),
                if carrier.call == crate::model::carriers::Call::None {
                    t!("carriers.no_test_call").into_owned()
                } else {
                    codes(carrier.supported.iter().copied())
                },
            ),
        ];
        let rows: Vec<Vec<String>> = fields
            .into_iter()
            .map(|(key, value)| vec![key, value])
            .collect();
        out.push_str(&render_rows(&rows, "  "));
        if carrier.call == crate::model::carriers::Call::None {
            continue;
        }
        out.push_str(&format!("  {}\n", t!("carriers.transitions")));
        let from: BTreeSet<Status> = std::iter::once(Status::INITIAL)
            .chain(carrier.supported.iter().copied())
            .collect();
        let rows: Vec<Vec<String>> = from
            .into_iter()
            .map(|status| {
                let next = carrier.allowed_next(status);
                let to = if !next.is_empty() {
                    next.iter()
                        .map(|s| s.code().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                } else if let Some(outcome) = status.terminal() {
                    t!(
                        "carriers.ends",
                        outcome = terminal_word(Some(outcome), lang)
                    )
                    .into_owned()
                } else {
                    t!("carriers.dead_end").into_owned()
                };
                vec![status.to_string(), format!("→ {to}")]
            })
            .collect();
        out.push_str(&render_rows(&rows, "    "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::tests::builtin;

    #[test]
    fn widths_count_cjk_as_two_columns() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("达达"), 4);
        assert_eq!(display_width("取货失败，商家取消"), 18);
        assert_eq!(display_width("—"), 1);
        assert_eq!(pad("达", 4), "达  ");
    }

    #[test]
    fn statuses_table_in_english() {
        assert_eq!(statuses_table(Lang::En), STATUSES_EN);
    }

    #[test]
    fn statuses_table_in_chinese() {
        assert_eq!(statuses_table(Lang::Zh), STATUSES_ZH);
    }

    #[test]
    fn statuses_table_columns_line_up_on_a_terminal() {
        for lang in [Lang::En, Lang::Zh] {
            let table = statuses_table(lang);
            // The last column starts at the same terminal column on every line.
            let starts: BTreeSet<usize> = table
                .lines()
                .map(|line| {
                    let last = line.rfind("  ").map_or(0, |i| i + 2);
                    display_width(&line[..last])
                })
                .collect();
            assert_eq!(starts.len(), 1, "{table}");
            assert_eq!(table.lines().count(), 17);
        }
    }

    const STATUSES_EN: &str = r##"CODE  NAME                             PHASE           LABEL                                             LABEL (ZH)                    TERMINAL
101   awaiting_rider                   1 acceptance    waiting for a rider                               等待分配骑手                  —
102   rider_assigned                   1 acceptance    rider assigned                                    分配骑手成功                  —
103   merchant_cancelled               1 acceptance    merchant cancelled the order                      商家取消订单                  failure
201   at_store                         2 pickup        rider at the store                                骑手到店开始取货              —
202   picked_up                        2 pickup        picked up                                         取货成功                      —
203   pickup_cancelled_by_merchant     2 pickup        pickup failed: merchant cancelled                 取货失败，商家取消            failure
204   pickup_cancelled_by_rider        2 pickup        pickup failed: rider cancelled                    取货失败，骑手因自身原因取消  failure
205   pickup_cancelled_merchant_fault  2 pickup        pickup failed: rider cancelled, merchant's fault  取货失败，骑手因商家原因取消  failure
301   delivering                       3 delivery      out for delivery                                  配送中                        —
302   delivered                        3 delivery      delivered                                         配送成功                      success
303   returning_merchant_cancelled     3 delivery      merchant cancelled, goods returning               商家取消，物品开始返还商家    —
304   recipient_unreachable            3 delivery      recipient unreachable, goods returning            无法联系收货人，物品开始返还  —
305   recipient_refused                3 delivery      recipient refused, goods returning                收货人拒收，物品开始返还      —
401   returned                         4 return        goods returned to the merchant                    货品返还商户成功              failure
501   carrier_cancelled                5 cancellation  cancelled by the carrier's system                 因运力系统原因取消            failure
502   force_majeure_cancelled          5 cancellation  cancelled by force majeure                        因不可抗力取消                failure
"##;

    const STATUSES_ZH: &str = r##"代码  名称                             阶段                    说明                          英文说明                                          终态
101   awaiting_rider                   1 配送公司接单阶段      等待分配骑手                  waiting for a rider                               —
102   rider_assigned                   1 配送公司接单阶段      分配骑手成功                  rider assigned                                    —
103   merchant_cancelled               1 配送公司接单阶段      商家取消订单                  merchant cancelled the order                      失败
201   at_store                         2 骑手取货阶段          骑手到店开始取货              rider at the store                                —
202   picked_up                        2 骑手取货阶段          取货成功                      picked up                                         —
203   pickup_cancelled_by_merchant     2 骑手取货阶段          取货失败，商家取消            pickup failed: merchant cancelled                 失败
204   pickup_cancelled_by_rider        2 骑手取货阶段          取货失败，骑手因自身原因取消  pickup failed: rider cancelled                    失败
205   pickup_cancelled_merchant_fault  2 骑手取货阶段          取货失败，骑手因商家原因取消  pickup failed: rider cancelled, merchant's fault  失败
301   delivering                       3 骑手配送阶段          配送中                        out for delivery                                  —
302   delivered                        3 骑手配送阶段          配送成功                      delivered                                         成功
303   returning_merchant_cancelled     3 骑手配送阶段          商家取消，物品开始返还商家    merchant cancelled, goods returning               —
304   recipient_unreachable            3 骑手配送阶段          无法联系收货人，物品开始返还  recipient unreachable, goods returning            —
305   recipient_refused                3 骑手配送阶段          收货人拒收，物品开始返还      recipient refused, goods returning                —
401   returned                         4 骑手返回配送货品阶段  货品返还商户成功              goods returned to the merchant                    失败
501   carrier_cancelled                5 取消阶段              因运力系统原因取消            cancelled by the carrier's system                 失败
502   force_majeure_cancelled          5 取消阶段              因不可抗力取消                cancelled by force majeure                        失败
"##;

    #[test]
    fn carriers_table_shows_profiles_and_transitions() {
        assert_eq!(carriers_table(&builtin()), CARRIERS);
    }

    #[test]
    fn carriers_table_never_shows_an_appsecret() {
        let table = builtin();
        let text = carriers_table(&table);
        for c in table.all() {
            let secret = c.account.appsecret.expose();
            assert!(!secret.is_empty());
            assert!(!text.contains(secret), "{} secret shown", c.id);
        }
        assert!(!text.contains("appsecret"));
    }

    const CARRIERS: &str = r##"carrier table version 2026-11-28 (5 carriers)

dada — Dada (达达)
  aliases      —
  delivery_id  DADA
  call         realmock_update_order
  version      dada-2026-11
  shopid       dadaaee18818d97e236
  shop_no      77071-47913
  supported    102 201 202 301 302 304 305
  transitions
    101 awaiting_rider         → 102
    102 rider_assigned         → 201
    201 at_store               → 202
    202 picked_up              → 301
    301 delivering             → 302, 304, 305
    302 delivered              → — (ends: success)
    304 recipient_unreachable  → — (dead end: this carrier supports nothing that comes next)
    305 recipient_refused      → — (dead end: this carrier supports nothing that comes next)

mtps — Meituan Delivery (美团配送)
  aliases      meituan
  delivery_id  MTPS
  call         none
  version      mtps-2026-12
  shopid       simulate-mtps-shop
  shop_no      simulate-mtps-store-1
  supported    — (no test call reaches it: scenarios cannot play it; in the emulator its orders move by delivery/update_order)

sandbox — WeChat sandbox (微信沙盒)
  aliases      test
  delivery_id  TEST
  call         test_update_order
  version      sandbox-2026-11
  shopid       test_shop_id
  shop_no      test_shop_no
  supported    102 103 201 202 203 204 205 301 302 303 304 305 401 501 502
  transitions
    101 awaiting_rider                   → 102, 103, 501, 502
    102 rider_assigned                   → 103, 201, 203, 204, 205, 501, 502
    103 merchant_cancelled               → — (ends: failure)
    201 at_store                         → 202, 203, 204, 205, 501, 502
    202 picked_up                        → 301, 303, 501, 502
    203 pickup_cancelled_by_merchant     → — (ends: failure)
    204 pickup_cancelled_by_rider        → — (ends: failure)
    205 pickup_cancelled_merchant_fault  → — (ends: failure)
    301 delivering                       → 302, 303, 304, 305, 501, 502
    302 delivered                        → — (ends: success)
    303 returning_merchant_cancelled     → 401
    304 recipient_unreachable            → 401
    305 recipient_refused                → 401
    401 returned                         → — (ends: failure)
    501 carrier_cancelled                → — (ends: failure)
    502 force_majeure_cancelled          → — (ends: failure)

sftc — SF Express City (顺丰同城急送)
  aliases      sf, shunfeng
  delivery_id  SFTC
  call         realmock_update_order
  version      sftc-2026-11
  shopid       1534713176
  shop_no      3243279847393
  supported    102 202 302
  transitions
    101 awaiting_rider  → 102
    102 rider_assigned  → 202
    202 picked_up       → 302
    302 delivered       → — (ends: success)

ss — ShanSong (闪送)
  aliases      shansong
  delivery_id  SS
  call         none
  version      ss-2026-12
  shopid       simulate-ss-shop
  shop_no      simulate-ss-store-1
  supported    — (no test call reaches it: scenarios cannot play it; in the emulator its orders move by delivery/update_order)
"##;
}
