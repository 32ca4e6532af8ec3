//! Every path a carrier's graph allows, and every move it refuses: what `simulate paths`
//! lists, `simulate new --all-paths` / `--negative` write and `simulate coverage` counts.
//!
//! A path starts at 101 and follows [`Carrier::allowed_next`] until it cannot go on: at an
//! end status, at a status with no allowed move, or where every allowed move was already taken
//! by this path. A path never takes the same edge twice, so a cycle (a re-dispatch added with
//! `extra_edges`) is walked at most once per path, and `max_steps` bounds the length.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::model::carriers::Carrier;
use crate::model::statuses::{Outcome, Status};

/// One move of the graph: from, to.
pub type Edge = (Status, Status);

/// The most paths one listing holds; past it the listing says it stopped.
pub const MAX_PATHS: usize = 10_000;
/// The most statuses the search visits, so a dense graph cannot keep it busy for long.
const MAX_VISITS: usize = 1_000_000;

/// Which ends a listing keeps (`--to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Paths that end delivered (a success status).
    Delivered,
    /// Every other path: a failure status, or a status where the carrier goes no further.
    Failure,
    All,
}

/// Why a path stops where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// At a status that ends the order well (302).
    Delivered,
    /// At a status that ends the order as a failure (cancelled, returned).
    Failed,
    /// At a live status the carrier has no move from (Dada's 304: it cannot report 401).
    NoMove,
    /// Every move from here was already taken by this path (a cycle walked once).
    Exhausted,
}

impl End {
    /// As machine-readable output names it.
    pub fn name(self) -> &'static str {
        match self {
            End::Delivered => "delivered",
            End::Failed => "failed",
            End::NoMove => "no_move",
            End::Exhausted => "every_move_taken",
        }
    }

    fn kept_by(self, goal: Goal) -> bool {
        match goal {
            Goal::All => true,
            Goal::Delivered => self == End::Delivered,
            Goal::Failure => self != End::Delivered,
        }
    }
}

/// One path: 101 first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub statuses: Vec<Status>,
    pub end: End,
}

impl Path {
    /// Its moves, in order.
    pub fn edges(&self) -> impl Iterator<Item = Edge> + '_ {
        self.statuses.windows(2).map(|w| (w[0], w[1]))
    }

    /// Its moves (one fewer than its statuses).
    pub fn steps(&self) -> usize {
        self.statuses.len().saturating_sub(1)
    }

    /// "101-102-201-202-301-302".
    pub fn codes(&self) -> String {
        codes(&self.statuses)
    }
}

/// "101-102-201".
pub fn codes(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| s.code().to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// What a listing found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// In depth-first order over `allowed_next` (code order), so the same graph lists the
    /// same paths in the same order.
    pub paths: Vec<Path>,
    /// Walks that reached `max_steps` moves with a move still open: not listed.
    pub cut: usize,
    /// The search stopped at [`MAX_PATHS`] paths (or its visit budget): there are more.
    pub truncated: bool,
}

/// Every path of `carrier` from 101 that `goal` keeps, of at most `max_steps` moves.
pub fn paths(carrier: &Carrier, goal: Goal, max_steps: usize) -> Listing {
    let mut search = Search {
        carrier,
        goal,
        max_steps,
        next: BTreeMap::new(),
        used: BTreeSet::new(),
        trail: vec![Status::INITIAL],
        visits: 0,
        listing: Listing::default(),
    };
    search.walk(Status::INITIAL);
    search.listing
}

struct Search<'a> {
    carrier: &'a Carrier,
    goal: Goal,
    max_steps: usize,
    /// `allowed_next`, asked once per status.
    next: BTreeMap<Status, Vec<Status>>,
    used: BTreeSet<Edge>,
    trail: Vec<Status>,
    visits: usize,
    listing: Listing,
}

impl Search<'_> {
    fn next(&mut self, from: Status) -> Vec<Status> {
        let carrier = self.carrier;
        self.next
            .entry(from)
            .or_insert_with(|| {
                if from.is_terminal() {
                    Vec::new()
                } else {
                    carrier.allowed_next(from)
                }
            })
            .clone()
    }

    fn walk(&mut self, at: Status) {
        self.visits += 1;
        if self.listing.paths.len() >= MAX_PATHS || self.visits > MAX_VISITS {
            self.listing.truncated = true;
            return;
        }
        let all = self.next(at);
        let open: Vec<Status> = all
            .iter()
            .copied()
            .filter(|to| !self.used.contains(&(at, *to)))
            .collect();
        if open.is_empty() {
            let end = match at.terminal() {
                Some(Outcome::Success) => End::Delivered,
                Some(Outcome::Failure) => End::Failed,
                None if all.is_empty() => End::NoMove,
                None => End::Exhausted,
            };
            // A carrier with no move from 101 has no path (not one of no steps).
            if self.trail.len() > 1 && end.kept_by(self.goal) {
                self.listing.paths.push(Path {
                    statuses: self.trail.clone(),
                    end,
                });
            }
            return;
        }
        if self.trail.len() > self.max_steps {
            self.listing.cut += 1;
            return;
        }
        for to in open {
            self.used.insert((at, to));
            self.trail.push(to);
            self.walk(to);
            self.trail.pop();
            self.used.remove(&(at, to));
            if self.listing.truncated {
                return;
            }
        }
    }
}

/// The statuses an order of `carrier` can reach from 101, each with a shortest way there
/// (101 first, the status last), in code order.
pub fn reachable(carrier: &Carrier) -> BTreeMap<Status, Vec<Status>> {
    let mut ways: BTreeMap<Status, Vec<Status>> = BTreeMap::new();
    ways.insert(Status::INITIAL, vec![Status::INITIAL]);
    let mut queue = VecDeque::from([Status::INITIAL]);
    while let Some(at) = queue.pop_front() {
        if at.is_terminal() {
            continue;
        }
        let way = ways.get(&at).cloned().unwrap_or_default();
        for to in carrier.allowed_next(at) {
            if let std::collections::btree_map::Entry::Vacant(entry) = ways.entry(to) {
                let mut longer = way.clone();
                longer.push(to);
                entry.insert(longer);
                queue.push_back(to);
            }
        }
    }
    ways
}

/// Every move of `carrier`'s graph that an order can make, starting at 101, in (from, to)
/// order: what coverage counts.
pub fn edges(carrier: &Carrier) -> BTreeSet<Edge> {
    reachable(carrier)
        .keys()
        .filter(|s| !s.is_terminal())
        .flat_map(|&from| {
            carrier
                .allowed_next(from)
                .into_iter()
                .map(move |to| (from, to))
        })
        .collect()
}

/// A move the carrier refuses, and the way to the status it is tried from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negative {
    /// 101 first, `from` last: allowed moves only.
    pub way: Vec<Status>,
    pub to: Status,
}

impl Negative {
    pub fn from(&self) -> Status {
        self.way.last().copied().unwrap_or(Status::INITIAL)
    }
}

/// For every live status an order of `carrier` can reach, every status the carrier supports
/// that it may not go to from there (the same status again included), in (from, to) order.
///
/// Statuses the carrier does not support are left out (refusing them says nothing about its
/// transitions), and so are moves from a status that ends the order: the platform refuses
/// those for every carrier alike (930565, the order has ended).
pub fn negatives(carrier: &Carrier) -> Vec<Negative> {
    let mut out = Vec::new();
    for (from, way) in reachable(carrier) {
        if from.is_terminal() {
            continue;
        }
        let allowed = carrier.allowed_next(from);
        for &to in &carrier.supported {
            if !allowed.contains(&to) {
                out.push(Negative {
                    way: way.clone(),
                    to,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::env::Env;
    use crate::model::carriers::Carriers;

    fn table() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(p) => panic!("{p:?}"),
        }
    }

    fn carrier(table: &Carriers, id: &str) -> Carrier {
        match table.find(id) {
            Some(c) => (**c).clone(),
            None => panic!("no {id}"),
        }
    }

    fn listed(listing: &Listing) -> Vec<String> {
        listing.paths.iter().map(Path::codes).collect()
    }

    /// Dada with a re-dispatch: out for delivery, back to picked up (a new rider).
    fn with_cycle() -> Carrier {
        let text = "carriers:\n  - id: loopy\n    delivery_id: LOOPY\n    name: { en: Loopy, zh: 环 }\n    call: realmock\n    version: loopy-1\n    account: { shopid: loopy-shop, appsecret: loopy-secret, shop_no: \"1\" }\n    statuses: [102, 202, 301, 302]\n    extra_edges: [[301, 202]]\n";
        match Carriers::extend(table(), text, "loopy.yaml", &Env::new()) {
            Ok(t) => carrier(&t, "loopy"),
            Err(p) => panic!("{p:?}"),
        }
    }

    #[test]
    fn dada_has_three_paths_and_two_stop_where_dada_cannot_go_on() {
        let table = table();
        let dada = carrier(&table, "dada");
        let all = paths(&dada, Goal::All, 100);
        assert_eq!(
            listed(&all),
            [
                "101-102-201-202-301-302",
                "101-102-201-202-301-304",
                "101-102-201-202-301-305"
            ]
        );
        assert_eq!(
            all.paths.iter().map(|p| p.end).collect::<Vec<_>>(),
            [End::Delivered, End::NoMove, End::NoMove]
        );
        assert_eq!((all.cut, all.truncated), (0, false));
        assert_eq!(
            listed(&paths(&dada, Goal::Delivered, 100)),
            ["101-102-201-202-301-302"]
        );
        assert_eq!(paths(&dada, Goal::Failure, 100).paths.len(), 2);
    }

    #[test]
    fn the_sandbox_has_every_path_of_the_lifecycle() {
        let table = table();
        let sandbox = carrier(&table, "sandbox");
        let all = paths(&sandbox, Goal::All, 100);
        assert_eq!(all.paths.len(), 23, "{:#?}", listed(&all));
        assert!(listed(&all).contains(&"101-102-201-202-301-304-401".to_owned()));
        assert_eq!(paths(&sandbox, Goal::Delivered, 100).paths.len(), 1);
        // Every edge is on some path.
        let on_paths: BTreeSet<Edge> = all.paths.iter().flat_map(|p| p.edges()).collect();
        assert_eq!(on_paths, edges(&sandbox));
        assert_eq!(edges(&sandbox).len(), 30);
    }

    #[test]
    fn max_steps_cuts_and_says_how_many() {
        let table = table();
        let dada = carrier(&table, "dada");
        let short = paths(&dada, Goal::All, 4);
        assert!(short.paths.is_empty());
        assert_eq!(short.cut, 1);
        let exact = paths(&dada, Goal::All, 5);
        assert_eq!((exact.paths.len(), exact.cut), (3, 0));
        let sandbox = carrier(&table, "sandbox");
        let two = paths(&sandbox, Goal::All, 2);
        // 101-103, 101-501, 101-502, 101-102-{103,203,204,205,501,502}; 102-201 goes on.
        assert_eq!((two.paths.len(), two.cut), (9, 1), "{:#?}", listed(&two));
    }

    #[test]
    fn a_cycle_is_walked_once_and_never_repeats_an_edge() {
        let loopy = with_cycle();
        let all = paths(&loopy, Goal::All, 100);
        assert_eq!(
            listed(&all),
            ["101-102-202-301-202", "101-102-202-301-302"],
            "{all:#?}"
        );
        assert_eq!(all.paths[0].end, End::Exhausted);
        for path in &all.paths {
            let edges: Vec<Edge> = path.edges().collect();
            let unique: BTreeSet<Edge> = edges.iter().copied().collect();
            assert_eq!(edges.len(), unique.len(), "{path:?}");
        }
        let on_paths: BTreeSet<Edge> = all.paths.iter().flat_map(|p| p.edges()).collect();
        assert_eq!(on_paths, edges(&loopy));
        // The way back through the cycle counts as a failure-side end for --to.
        assert_eq!(paths(&loopy, Goal::Failure, 100).paths.len(), 1);
    }

    #[test]
    fn negatives_are_every_supported_status_not_allowed_from_each_live_one() {
        let table = table();
        let sf = carrier(&table, "sftc");
        let got: Vec<(String, u16)> = negatives(&sf)
            .iter()
            .map(|n| (codes(&n.way), n.to.code()))
            .collect();
        let want: Vec<(String, u16)> = [
            ("101", 202),
            ("101", 302),
            ("101-102", 102),
            ("101-102", 302),
            ("101-102-202", 102),
            ("101-102-202", 202),
        ]
        .iter()
        .map(|(w, t)| ((*w).to_owned(), *t))
        .collect();
        assert_eq!(got, want);
        for n in negatives(&carrier(&table, "dada")) {
            assert!(!carrier(&table, "dada").allows(n.from(), n.to), "{n:?}");
            assert!(!n.from().is_terminal());
        }
        // Dada's 304 and 305 are live but have no move: everything from them is refused.
        let from_304 = negatives(&carrier(&table, "dada"))
            .into_iter()
            .filter(|n| n.from() == Status::RecipientUnreachable)
            .count();
        assert_eq!(from_304, 7);
    }

    #[test]
    fn a_carrier_that_cannot_move_has_no_path() {
        let table = table();
        let listing = paths(&carrier(&table, "mtps"), Goal::All, 100);
        assert_eq!(listing, Listing::default());
        assert!(negatives(&carrier(&table, "mtps")).is_empty());
        assert!(edges(&carrier(&table, "mtps")).is_empty());
    }

    #[test]
    fn reachable_gives_a_shortest_way() {
        let table = table();
        let ways = reachable(&carrier(&table, "sandbox"));
        assert_eq!(ways.len(), 16);
        assert_eq!(
            ways.get(&Status::Returned).map(|w| codes(w)),
            Some("101-102-201-202-303-401".to_owned())
        );
    }
}
