//! The page's words, from the catalogues (locales/en.yml, locales/zh.yml), in both languages:
//! the page switches between them without asking the server again.

use rust_i18n::t;
use serde_json::{Value, json};

use crate::base::i18n::Lang;

/// Every text the page shows, in `lang`. Placeholders (`%{count}`) are filled in by the page.
fn words(lang: Lang) -> Value {
    let l = lang.code();
    json!({
        "title": t!("dashboard.title", locale = l),
        "not_wechat": t!("dashboard.not_wechat", locale = l),
        "live": t!("dashboard.live", locale = l),
        "reconnecting": t!("dashboard.reconnecting", locale = l),
        "switch": t!("dashboard.switch", locale = l),
        "no_orders": t!("dashboard.no_orders", locale = l),
        "showing": t!("dashboard.showing", locale = l),
        "order": t!("dashboard.order", locale = l),
        "waybill": t!("dashboard.waybill", locale = l),
        "rider": t!("dashboard.rider", locale = l),
        "no_rider": t!("dashboard.no_rider", locale = l),
        "tip": t!("dashboard.tip", locale = l),
        "store": t!("dashboard.store", locale = l),
        "receiver": t!("dashboard.receiver", locale = l),
        "progress": t!("dashboard.progress", locale = l),
        "timeline": t!("dashboard.timeline", locale = l),
        "created": t!("dashboard.created", locale = l),
        "call_ok": t!("dashboard.call_ok", locale = l),
        "call_failed": t!("dashboard.call_failed", locale = l),
        "push_ok": t!("dashboard.push_ok", locale = l),
        "push_failed": t!("dashboard.push_failed", locale = l),
        "move_to": t!("dashboard.move_to", locale = l),
        "cancel": t!("dashboard.cancel", locale = l),
        "add_tip": t!("dashboard.add_tip", locale = l),
        "confirm_return": t!("dashboard.confirm_return", locale = l),
        "nothing_to_do": t!("dashboard.nothing_to_do", locale = l),
        "done": t!("dashboard.done", locale = l),
        "refused": t!("dashboard.refused", locale = l),
        "not_offered": t!("dashboard.not_offered", locale = l),
        "unreachable": t!("dashboard.unreachable", locale = l),
        "history_dropped": t!("dashboard.history_dropped", locale = l),
    })
}

/// What the page starts from: its words in both languages and the one to show first.
pub(crate) fn boot(lang: Lang) -> Value {
    json!({
        "lang": lang.code(),
        "words": { "en": words(Lang::En), "zh": words(Lang::Zh) },
    })
}
