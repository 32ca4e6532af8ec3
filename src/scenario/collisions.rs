//! Order ids that two scenarios share: both would move the same order at the carrier.

use rust_i18n::t;
use std::collections::BTreeMap;

use crate::base::diag::Diagnostic;

/// Where a scenario's order id is written, to report collisions between files.
pub(super) struct OrderKey {
    pub(super) file: String,
    pub(super) line: u64,
    pub(super) column: u64,
    pub(super) shopid: String,
    pub(super) shop_order_id: String,
    /// k of n, for `repeat:`.
    pub(super) repetition: Option<(u32, u32)>,
}

impl OrderKey {
    /// The file, and the repetition when there are several.
    fn label(&self) -> String {
        match self.repetition {
            Some((k, n)) => t!("collision.repetition", file = self.file, k = k, n = n).into_owned(),
            None => self.file.clone(),
        }
    }
}

/// The orders of the files loaded so far: (shopid, shop_order_id) → the file (and
/// repetition) that uses it first.
#[derive(Default)]
pub(super) struct Claimed(BTreeMap<(String, String), String>);

impl Claimed {
    /// Claims the orders of one file; the problem when some are already claimed.
    pub(super) fn claim(&mut self, keys: &[OrderKey]) -> Option<Diagnostic> {
        // One message per file: a `repeat:` may collide a thousand times.
        let mut collisions: Vec<(&OrderKey, String)> = Vec::new();
        for key in keys {
            let pair = (key.shopid.clone(), key.shop_order_id.clone());
            match self.0.get(&pair) {
                Some(first) => collisions.push((key, first.clone())),
                None => {
                    self.0.insert(pair, key.label());
                }
            }
        }
        let (key, first) = collisions.first()?;
        let message = match collisions.len() - 1 {
            0 => t!(
                "collision.one",
                order = key.shop_order_id,
                shop = key.shopid,
                first = first
            ),
            1 => t!(
                "collision.one_more",
                order = key.shop_order_id,
                shop = key.shopid,
                first = first
            ),
            more => t!(
                "collision.more",
                order = key.shop_order_id,
                shop = key.shopid,
                first = first,
                more = more
            ),
        };
        Some(
            Diagnostic::new(&key.file, key.line, key.column, message)
                .with_help(t!("collision.help")),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::base::diag::Diagnostic;
    use crate::scenario::load_plan;
    use crate::scenario::testing::{VALID, carriers, ctx, tempdir, write};

    /// The only problem of loading the folder `dir`.
    fn the_problem(dir: &Path) -> Diagnostic {
        let problems = match load_plan(&[dir.to_path_buf()], &carriers(), &ctx()) {
            Ok(p) => panic!("{p:?}"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 1, "{problems:#?}");
        problems.into_iter().next().unwrap_or_else(|| panic!())
    }

    /// How many plans the folder `dir` makes.
    fn plans_in(dir: &Path) -> usize {
        match load_plan(&[dir.to_path_buf()], &carriers(), &ctx()) {
            Ok(plan) => plan.scenarios.len(),
            Err(p) => panic!("{p:#?}"),
        }
    }

    #[test]
    fn repeated_orders_collide_with_other_files() {
        let dir = tempdir();
        let d = dir.path();
        write(
            &d.join("a.yaml"),
            "carrier: dada\nshop_order_id: batch\nrepeat: 5\nsteps: [{status: 102}]\n",
        );
        write(
            &d.join("b.yaml"),
            "carrier: dada\nshop_order_id: \"batch-{{repeat}}\"\nrepeat: 3\nsteps: [{status: 102}]\n",
        );
        write(
            &d.join("c.yaml"),
            "carrier: dada\nshop_order_id: batch-9\nsteps: [{status: 102}]\n",
        );
        let p = the_problem(d);
        assert!(p.file.ends_with("b.yaml"), "{p}");
        assert_eq!((p.line, p.column), (2, 16));
        assert!(
            p.message
                .contains("shop_order_id `batch-1` of shop `dadaaee18818d97e236` is also used by"),
            "{p}"
        );
        assert!(p.message.contains("a.yaml (order 1 of 5)"), "{p}");
        assert!(
            p.message.ends_with("(and 2 more orders of this file)"),
            "{p}"
        );
        // Apart, they load: 5 + 3 + 1 plans.
        write(
            &d.join("b.yaml"),
            "carrier: dada\nshop_order_id: \"other-{{repeat}}\"\nrepeat: 3\nsteps: [{status: 102}]\n",
        );
        assert_eq!(plans_in(d), 9);
    }

    #[test]
    fn two_scenarios_with_one_order_id_collide() {
        let dir = tempdir();
        let d = dir.path();
        let fixed = "carrier: dada\nshop_order_id: fixed-1\nsteps: [{status: 102}]\n";
        write(&d.join("one.yaml"), fixed);
        write(&d.join("two.yaml"), fixed);
        write(
            &d.join("three.yaml"),
            "carrier: dada\nshop_order_id: fixed-1\nshop: {shopid: other, appsecret: x}\nsteps: [{status: 102}]\n",
        );
        let p = the_problem(d);
        assert!(p.file.ends_with("two.yaml"), "{p}");
        assert_eq!((p.line, p.column), (2, 16));
        assert!(
            p.message
                .contains("shop_order_id `fixed-1` of shop `dadaaee18818d97e236` is also used by"),
            "{p}"
        );
        assert!(p.message.contains("one.yaml"), "{p}");
        // {{scenario}} keeps files apart.
        write(&d.join("one.yaml"), VALID);
        write(&d.join("two.yaml"), VALID);
        write(&d.join("three.yaml"), VALID);
        assert_eq!(plans_in(d), 3);
    }
}
