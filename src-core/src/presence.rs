//! Venue-wide presence (issue 18): who is inside a venue with several gates, agreed between its
//! stations however their messages travel — through the server, directly on the venue's LAN, late,
//! twice, or in any order.
//!
//! The state is a grow-only set of passages (entries and exits that passed a gate), keyed by the
//! check-in's id: a state-based CRDT whose merge is set union, so it is commutative, associative
//! and idempotent, and replicas that have seen the same passages hold the same state whatever the
//! order or duplication of deliveries. A check-in that arrives once through the LAN and again
//! through the server is one element: nothing is counted twice. Who is inside is not stored but
//! computed from the set with [`copresence::stays`] (the tracing rules: another gate's entry while
//! inside is the same stay, an exit closes it, an exit with no known entry opens nothing, a stay
//! with no exit closes by the automatic-exit rule), so equal sets give equal answers.
//!
//! Conflicts, as the rules resolve them: one person entering at two gates within seconds is one
//! stay (both doors listed); an exit with no known entry is kept (it may be explained by an entry
//! that arrives later) and counts nobody; a station rejoining after hours apart merges its
//! passages and the stays are recomputed — whoever left meanwhile, at any gate, is out, and a stay
//! older than the automatic-exit rule has closed.
//!
//! Invariants: pure (time comes in as an argument); [`PresenceSet::forget_before`] drops only
//! passages that can no longer change who is inside (older than the automatic-exit rule), so
//! replicas that forget at the same horizon still agree.
//!
//! Stations keep the set as their log of passages (own check-ins, residents' phone check-ins,
//! passages relayed by the server or heard from the venue's other stations on the LAN, see
//! [`crate::lan`]), inserted by id, and read the stay rules straight from it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::copresence::{self, StayEnd};
use crate::gate::Direction;

/// One passage through a gate of the venue, as stations exchange them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Passage {
    /// The check-in's id (unique across the deployment; the CRDT's key).
    pub id: String,
    /// The person's pseudonym.
    pub subject: String,
    pub checkpoint_id: String,
    pub direction: Direction,
    pub at: DateTime<Utc>,
}

/// Longest id, pseudonym or door id a passage from another station may carry.
pub const MAX_PASSAGE_FIELD: usize = 128;

impl Passage {
    /// Whether a passage from elsewhere can be taken in at `now`: every field present and of
    /// sane length, and not from the future (beyond the clock skew stations allow).
    pub fn is_well_formed(&self, now: DateTime<Utc>) -> bool {
        let field = |s: &str| !s.is_empty() && s.len() <= MAX_PASSAGE_FIELD;
        field(&self.id)
            && field(&self.subject)
            && field(&self.checkpoint_id)
            && self.at <= now + crate::sync::FUTURE_SKEW
    }

    /// The passage as the stay rules read it (one venue: the venue is left empty).
    pub fn for_stays(&self) -> copresence::Passage {
        copresence::Passage {
            subject: self.subject.clone(),
            venue_id: String::new(),
            checkpoint_id: self.checkpoint_id.clone(),
            direction: self.direction,
            at: self.at,
        }
    }
}

/// A venue's passages: the replicated state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceSet {
    passages: BTreeMap<String, Passage>,
}

/// Someone inside now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inside {
    pub subject: String,
    /// When the stay began.
    pub since: DateTime<Utc>,
    /// The gate they last entered by.
    pub checkpoint_id: String,
}

/// The venue's occupancy at a moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Occupancy {
    /// Everyone inside, by pseudonym.
    pub inside: Vec<Inside>,
    /// How many are inside by the gate they last entered by.
    pub by_checkpoint: BTreeMap<String, usize>,
}

impl Occupancy {
    pub fn total(&self) -> usize {
        self.inside.len()
    }
}

impl PresenceSet {
    pub fn new() -> PresenceSet {
        PresenceSet::default()
    }

    /// Adds a passage; false when one with its id is already known (a second delivery). A
    /// different passage under a known id keeps the first (ids are unique; this only makes the
    /// set deterministic should a broken sender reuse one).
    pub fn insert(&mut self, p: Passage) -> bool {
        match self.passages.get(&p.id) {
            Some(known) => {
                if p < *known {
                    self.passages.insert(p.id.clone(), p);
                }
                false
            }
            None => {
                self.passages.insert(p.id.clone(), p);
                true
            }
        }
    }

    /// Adds everything `other` holds; returns how many passages were new.
    pub fn merge(&mut self, other: &PresenceSet) -> usize {
        other
            .passages
            .values()
            .filter(|p| self.insert((*p).clone()))
            .count()
    }

    pub fn len(&self) -> usize {
        self.passages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.passages.contains_key(id)
    }

    /// The passages, by id.
    pub fn passages(&self) -> impl Iterator<Item = &Passage> {
        self.passages.values()
    }

    /// Drops passages older than `now - auto_close`: none of them can still keep anyone inside,
    /// so who is inside (and by which gate) is unchanged; a stay kept open by re-entries then
    /// starts at its oldest remembered entry.
    pub fn forget_before(&mut self, now: DateTime<Utc>, auto_close: Duration) {
        let horizon = now - auto_close.max(Duration::zero());
        self.passages.retain(|_, p| p.at >= horizon);
    }

    /// Who is inside at `now` under the automatic-exit rule `auto_close`.
    pub fn occupancy(&self, now: DateTime<Utc>, auto_close: Duration) -> Occupancy {
        let passages: Vec<copresence::Passage> =
            self.passages.values().map(Passage::for_stays).collect();
        let last = last_entry_gates(&passages, now);
        let mut occupancy = Occupancy::default();
        for stay in open_stays(&passages, now, auto_close) {
            let door = last
                .get(stay.subject.as_str())
                .map(|(_, d)| d.to_string())
                .unwrap_or_default();
            *occupancy.by_checkpoint.entry(door.clone()).or_default() += 1;
            occupancy.inside.push(Inside {
                subject: stay.subject,
                since: stay.start,
                checkpoint_id: door,
            });
        }
        occupancy
    }

    /// Whether `subject` is inside at `now` (the station's "already inside" and exit matching).
    pub fn inside(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        auto_close: Duration,
    ) -> Option<Inside> {
        let mine = PresenceSet {
            passages: self
                .passages
                .iter()
                .filter(|(_, p)| p.subject == subject)
                .map(|(k, p)| (k.clone(), p.clone()))
                .collect(),
        };
        mine.occupancy(now, auto_close).inside.into_iter().next()
    }
}

/// The stays open at `now` among `passages` (passages after `now` ignored): the stay rules of
/// [`copresence::stays`], each one still open by the automatic-exit rule and closed by no exit.
/// What [`PresenceSet::occupancy`] counts, and what the station's live counter and "already
/// inside" read straight from its store (its ids are distinct, so no set is needed).
pub fn open_stays(
    passages: &[copresence::Passage],
    now: DateTime<Utc>,
    auto_close: Duration,
) -> Vec<copresence::Stay> {
    let upto: Vec<copresence::Passage>;
    let passages = if passages.iter().all(|p| p.at <= now) {
        passages
    } else {
        upto = passages.iter().filter(|p| p.at <= now).cloned().collect();
        &upto
    };
    copresence::stays(passages, auto_close)
        .into_iter()
        .filter(|s| s.ended == StayEnd::AutoClosed && s.start <= now && now < s.end)
        .collect()
}

/// Each person's last entry up to `now` and its gate (ties broken by gate id, so every replica
/// agrees whatever order it learned the passages in).
fn last_entry_gates(
    passages: &[copresence::Passage],
    now: DateTime<Utc>,
) -> BTreeMap<&str, (DateTime<Utc>, &str)> {
    let mut last: BTreeMap<&str, (DateTime<Utc>, &str)> = BTreeMap::new();
    for p in passages
        .iter()
        .filter(|p| p.at <= now && p.direction == Direction::Entry)
    {
        let here = (p.at, p.checkpoint_id.as_str());
        let e = last.entry(p.subject.as_str()).or_insert(here);
        if here > *e {
            *e = here;
        }
    }
    last
}

/// How many of those inside at `now` came in by each gate: the gate of each person's last
/// entry. What stations show per door; [`PresenceSet::occupancy`] counts the same.
pub fn by_gate(
    passages: &[copresence::Passage],
    now: DateTime<Utc>,
    auto_close: Duration,
) -> BTreeMap<String, usize> {
    let last = last_entry_gates(passages, now);
    let mut out = BTreeMap::new();
    for stay in open_stays(passages, now, auto_close) {
        if let Some((_, door)) = last.get(stay.subject.as_str()) {
            *out.entry(door.to_string()).or_default() += 1;
        }
    }
    out
}

/// What the venue's capacity (限流) says about one more entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admit,
    /// At the cap: the entry waits until someone leaves (at any gate).
    Hold {
        inside: usize,
        cap: u32,
    },
}

/// The capacity rule: exits always pass; an entry is held while `inside` has reached `cap`.
/// No cap (`None`) or a cap of 0 (not set) admits everyone.
pub fn admit(direction: Direction, inside: usize, cap: Option<u32>) -> Admission {
    match (direction, cap) {
        (Direction::Entry, Some(cap)) if cap > 0 && inside >= cap as usize => {
            Admission::Hold { inside, cap }
        }
        _ => Admission::Admit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AUTO: i64 = 4; // hours

    fn t(m: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(m)
    }

    fn p(id: &str, who: &str, door: &str, d: Direction, m: i64) -> Passage {
        Passage {
            id: id.into(),
            subject: who.into(),
            checkpoint_id: door.into(),
            direction: d,
            at: t(m),
        }
    }

    fn set(ps: &[Passage]) -> PresenceSet {
        let mut s = PresenceSet::new();
        for x in ps {
            s.insert(x.clone());
        }
        s
    }

    fn auto() -> Duration {
        Duration::hours(AUTO)
    }

    #[test]
    fn in_at_the_south_gate_out_at_the_north_gate() {
        let south = set(&[p("1", "a", "south", Direction::Entry, 0)]);
        assert!(south.inside("a", t(5), auto()).is_some());
        let mut north = PresenceSet::new();
        north.merge(&south);
        north.insert(p("2", "a", "north", Direction::Exit, 10));
        assert_eq!(north.inside("a", t(11), auto()), None);
        // The south gate hears of the exit and agrees.
        let mut south = south;
        south.merge(&north);
        assert_eq!(south, north);
        assert_eq!(south.occupancy(t(11), auto()).total(), 0);
    }

    #[test]
    fn the_conflicts_resolve_as_the_rules_say() {
        let s = set(&[
            // The same person entering at two gates seconds apart: one stay.
            p("1", "a", "south", Direction::Entry, 0),
            p("2", "a", "north", Direction::Entry, 0),
            // An exit nobody saw enter: counts nobody.
            p("3", "b", "north", Direction::Exit, 1),
            // Inside for longer than the automatic-exit rule: out.
            p("4", "c", "west", Direction::Entry, -(AUTO * 60) - 1),
            p("5", "d", "west", Direction::Entry, 2),
        ]);
        let o = s.occupancy(t(3), auto());
        assert_eq!(o.total(), 2, "{o:?}");
        // Two gates at the same moment: the rule picks one the same way everywhere.
        assert_eq!(
            o.by_checkpoint,
            BTreeMap::from([("south".to_string(), 1), ("west".to_string(), 1)])
        );
        let flat: Vec<_> = s.passages().map(Passage::for_stays).collect();
        assert_eq!(by_gate(&flat, t(3), auto()), o.by_checkpoint);
        // A second delivery of a passage changes nothing.
        let mut again = s.clone();
        assert!(!again.insert(p("2", "a", "north", Direction::Entry, 0)));
        assert_eq!(again, s);
    }

    #[test]
    fn forgetting_old_passages_keeps_who_is_inside() {
        let mut s = set(&[
            p("1", "a", "south", Direction::Entry, 0),
            p("2", "a", "north", Direction::Exit, 30),
            p("3", "b", "south", Direction::Entry, 200),
            p("4", "c", "south", Direction::Entry, 10),
            p("5", "c", "south", Direction::Entry, 230),
        ]);
        let now = t(300);
        let before = s.occupancy(now, auto());
        assert_eq!(before.total(), 2, "b, and c by their second entry");
        s.forget_before(now, auto());
        assert_eq!(s.len(), 2);
        let after = s.occupancy(now, auto());
        assert_eq!(after.by_checkpoint, before.by_checkpoint);
        let who = |o: &Occupancy| {
            o.inside
                .iter()
                .map(|i| i.subject.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(who(&after), who(&before));
        // A stay kept open by re-entries now starts at its oldest remembered entry.
        assert_eq!(after.inside[1].since, t(230));
    }

    #[test]
    fn capacity_holds_the_fourth_entry_until_someone_leaves() {
        assert_eq!(admit(Direction::Entry, 2, Some(3)), Admission::Admit);
        assert_eq!(
            admit(Direction::Entry, 3, Some(3)),
            Admission::Hold { inside: 3, cap: 3 }
        );
        assert_eq!(admit(Direction::Exit, 3, Some(3)), Admission::Admit);
        assert_eq!(admit(Direction::Entry, 300, None), Admission::Admit);
        assert_eq!(admit(Direction::Entry, 300, Some(0)), Admission::Admit);
    }

    fn passage() -> impl Strategy<Value = Passage> {
        (0u32..40, 0u8..6, 0u8..3, any::<bool>(), -300i64..300).prop_map(
            |(id, who, door, entry, m)| Passage {
                id: format!("r{id}"),
                subject: format!("s{who}"),
                checkpoint_id: ["south", "north", "west"][door as usize].into(),
                direction: if entry {
                    Direction::Entry
                } else {
                    Direction::Exit
                },
                at: t(m),
            },
        )
    }

    proptest! {
        /// Three stations each hear some of the passages, some twice, in their own order, then
        /// exchange states pairwise in any order: all three hold the union and agree on who is
        /// inside at any moment.
        #[test]
        fn replicas_converge_whatever_the_order_or_duplication(
            ps in proptest::collection::vec(passage(), 0..60),
            heard in proptest::collection::vec((0usize..3, 0usize..60), 0..180),
            exchanges in proptest::collection::vec((0usize..3, 0usize..3), 0..8),
            now in -300i64..600,
        ) {
            let mut union = PresenceSet::new();
            for x in &ps {
                union.insert(x.clone());
            }
            let mut stations = vec![PresenceSet::new(); 3];
            for (s, i) in heard {
                if let Some(x) = ps.get(i) {
                    stations[s].insert(x.clone());
                }
            }
            // Whatever each station also recorded itself reaches it: every passage is someone's.
            for (i, x) in ps.iter().enumerate() {
                stations[i % 3].insert(x.clone());
            }
            for (a, b) in exchanges {
                let from = stations[a].clone();
                stations[b].merge(&from);
            }
            // Finally everyone hears everyone (the network heals), in a fixed ring.
            for _ in 0..2 {
                for i in 0..3 {
                    let from = stations[i].clone();
                    stations[(i + 1) % 3].merge(&from);
                }
            }
            for s in &stations {
                prop_assert_eq!(s, &union);
                prop_assert_eq!(s.occupancy(t(now), auto()), union.occupancy(t(now), auto()));
            }
            // The station's direct read agrees with the set.
            let plain: Vec<copresence::Passage> = union
                .passages()
                .map(Passage::for_stays)
                .collect();
            prop_assert_eq!(
                open_stays(&plain, t(now), auto()).len(),
                union.occupancy(t(now), auto()).total()
            );
        }
    }

    #[test]
    fn who_is_inside_now_counts_open_stays_only_by_the_gate_they_came_in() {
        let at = |h: i64, m: i64| t(h * 60 + m - 8 * 60);
        let p = |s: &str, d: Direction, at| copresence::Passage {
            subject: s.into(),
            venue_id: "v".into(),
            checkpoint_id: "main".into(),
            direction: d,
            at,
        };
        let passages = vec![
            p("in", Direction::Entry, at(10, 0)),
            p("left", Direction::Entry, at(10, 0)),
            p("left", Direction::Exit, at(10, 30)),
            p("long-ago", Direction::Entry, at(4, 0)),
            p("exit-only", Direction::Exit, at(10, 50)),
        ];
        let four = Duration::hours(4);
        assert_eq!(
            by_gate(&passages, at(11, 0), four),
            BTreeMap::from([("main".to_string(), 1)])
        );
        assert!(by_gate(&passages, at(9, 0), four).is_empty());
    }
}
