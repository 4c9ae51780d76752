//! Contact tracing (流调溯源) rules: check-ins become stays, and stays that overlap at one venue make
//! contacts. The server reads the check-ins; these functions decide what they mean.
//!
//! A stay is one person at one venue from an entry to the exit that follows it. An entry while a
//! stay is open (another gate of the same venue, a second scan at the door) belongs to that stay;
//! a stay with no exit is closed by the venue's automatic-exit rule (`auto_close` after its last
//! entry); an exit with no open stay is a stay of its own moment (the person was there then). Two
//! stays are co-present when they are at the same venue and their times overlap once each is
//! widened by `margin` on both ends (touching at the boundary counts).
//!
//! Invariants: pure; input order does not matter; every stay of the case is compared with every
//! other person's stay at the same venue, once; a person is never their own contact.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::gate::Direction;

/// One check-in as tracing reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// The person's pseudonym (the same across stations for scanned codes and, once sealed, for
    /// people registered by hand).
    pub subject: String,
    pub venue_id: String,
    pub checkpoint_id: String,
    pub direction: Direction,
    pub at: DateTime<Utc>,
}

/// How a stay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StayEnd {
    /// An exit was recorded.
    Exit,
    /// No exit: closed by the venue's automatic-exit rule.
    AutoClosed,
    /// Only an exit was recorded: the stay is that moment.
    ExitOnly,
}

/// One person at one venue over a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub subject: String,
    pub venue_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub ended: StayEnd,
    /// The checkpoints passed during the stay, in order, without repeats.
    pub checkpoints: Vec<String>,
}

/// A person co-present with the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub subject: String,
    pub venue_id: String,
    /// The case's stay and the contact's stay that overlap.
    pub case_stay: Stay,
    pub stay: Stay,
    /// How long the two stays overlapped without the margin (zero when only the margin joins
    /// them).
    pub overlap: Duration,
}

/// The stays in `passages`, by subject, venue and start.
pub fn stays(passages: &[Passage], auto_close: Duration) -> Vec<Stay> {
    let mut by_person: BTreeMap<(&str, &str), Vec<&Passage>> = BTreeMap::new();
    for p in passages {
        by_person
            .entry((p.subject.as_str(), p.venue_id.as_str()))
            .or_default()
            .push(p);
    }
    let mut out = Vec::new();
    for ((subject, venue), mut ps) in by_person {
        ps.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| dir_order(a.direction).cmp(&dir_order(b.direction)))
        });
        walk(
            ps.len(),
            |i| (ps[i].at, ps[i].direction),
            auto_close,
            |members, start, end, ended| {
                let mut checkpoints: Vec<String> = Vec::new();
                for p in &ps[members] {
                    if !checkpoints.contains(&p.checkpoint_id) {
                        checkpoints.push(p.checkpoint_id.clone());
                    }
                }
                out.push(Stay {
                    subject: subject.into(),
                    venue_id: venue.into(),
                    start,
                    end,
                    ended,
                    checkpoints,
                });
            },
        );
    }
    out.sort_by(|a, b| {
        (a.subject.as_str(), a.venue_id.as_str(), a.start).cmp(&(
            b.subject.as_str(),
            b.venue_id.as_str(),
            b.start,
        ))
    });
    out
}

/// One passage of someone at a venue the caller already knows: what the stays of the people
/// around a case need (no door, no venue, the pseudonym borrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark<'a> {
    pub subject: &'a str,
    pub direction: Direction,
    pub at: DateTime<Utc>,
}

/// A stay of a [`Mark`]'s person: a [`Stay`] without its venue and doors, borrowing the
/// pseudonym.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span<'a> {
    pub subject: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub ended: StayEnd,
}

/// The stays in `marks` (all at one venue) by the rules of [`stays`], by subject, then start.
/// Tens of thousands of marks at a busy venue cost one sort and no copy of a pseudonym.
pub fn spans<'a>(marks: &[Mark<'a>], auto_close: Duration) -> Vec<Span<'a>> {
    // The first eight bytes decide almost every comparison without reading the rest.
    let head = |s: &str| {
        let mut b = [0u8; 8];
        let n = s.len().min(8);
        b[..n].copy_from_slice(&s.as_bytes()[..n]);
        u64::from_be_bytes(b)
    };
    let mut order: Vec<(u64, &Mark<'a>)> = marks.iter().map(|m| (head(m.subject), m)).collect();
    order.sort_by(|(ha, a), (hb, b)| {
        (*ha, a.subject, a.at, dir_order(a.direction)).cmp(&(
            *hb,
            b.subject,
            b.at,
            dir_order(b.direction),
        ))
    });
    let mut out = Vec::with_capacity(order.len() / 2 + 1);
    for group in order.chunk_by(|(_, a), (_, b)| a.subject == b.subject) {
        let subject = group[0].1.subject;
        walk(
            group.len(),
            |i| (group[i].1.at, group[i].1.direction),
            auto_close,
            |_, start, end, ended| {
                out.push(Span {
                    subject,
                    start,
                    end,
                    ended,
                })
            },
        );
    }
    out
}

/// The stay rules over one person's `n` passages at one venue, read through `get` (time and
/// direction) in time order, entries before exits at the same instant: each stay is handed to
/// `emit` with the positions of its passages (consecutive), its start, end and how it ended.
fn walk(
    n: usize,
    get: impl Fn(usize) -> (DateTime<Utc>, Direction),
    auto_close: Duration,
    mut emit: impl FnMut(std::ops::Range<usize>, DateTime<Utc>, DateTime<Utc>, StayEnd),
) {
    let auto_close = auto_close.max(Duration::zero());
    // The open stay: its first passage, start and last entry.
    let mut open: Option<(usize, DateTime<Utc>, DateTime<Utc>)> = None;
    for i in 0..n {
        let (at, direction) = get(i);
        // An open stay past the automatic-exit rule closes first.
        if let Some((first, start, end)) = open {
            if at > end + auto_close {
                emit(first..i, start, end + auto_close, StayEnd::AutoClosed);
                open = None;
            }
        }
        match (direction, open) {
            // Another gate of the same venue, or a second scan: the same stay.
            (Direction::Entry, Some((first, start, _))) => open = Some((first, start, at)),
            (Direction::Entry, None) => open = Some((i, at, at)),
            (Direction::Exit, Some((first, start, _))) => {
                emit(first..i + 1, start, at, StayEnd::Exit);
                open = None;
            }
            (Direction::Exit, None) => emit(i..i + 1, at, at, StayEnd::ExitOnly),
        }
    }
    if let Some((first, start, end)) = open {
        emit(first..n, start, end + auto_close, StayEnd::AutoClosed);
    }
}

/// Entries before exits at the same instant (a stay is opened before it is closed).
fn dir_order(d: Direction) -> u8 {
    match d {
        Direction::Entry => 0,
        Direction::Exit => 1,
    }
}

/// Everyone in `others` co-present with one of `case`'s stays: same venue, times overlapping
/// once widened by `margin` (inclusive). One contact per pair of stays, by venue, then start.
pub fn co_present(case: &[Stay], others: &[Stay], margin: Duration) -> Vec<Contact> {
    let mut out: Vec<Contact> = overlaps(case, others, margin)
        .into_iter()
        .map(|(c, o, overlap)| Contact {
            subject: others[o].subject.clone(),
            venue_id: others[o].venue_id.clone(),
            case_stay: case[c].clone(),
            stay: others[o].clone(),
            overlap,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.venue_id.as_str(), a.stay.start, a.subject.as_str()).cmp(&(
            b.venue_id.as_str(),
            b.stay.start,
            b.subject.as_str(),
        ))
    });
    out
}

/// The pairs behind [`co_present`] without copying a stay: `(index in case, index in others,
/// overlap)` for each co-present pair, by case stay, then in `others`' order. A busy venue's
/// answer holds thousands of pairs; the caller copies only what it shows.
pub fn overlaps(case: &[Stay], others: &[Stay], margin: Duration) -> Vec<(usize, usize, Duration)> {
    pairs(case, others.len(), margin, |i| {
        let o = &others[i];
        (
            Some(o.venue_id.as_str()),
            o.subject.as_str(),
            o.start,
            o.end,
        )
    })
}

/// [`overlaps`] with the [`spans`] of the people at one venue: `case` holds the case's stays
/// at that venue.
pub fn span_overlaps(
    case: &[Stay],
    others: &[Span<'_>],
    margin: Duration,
) -> Vec<(usize, usize, Duration)> {
    pairs(case, others.len(), margin, |i| {
        let o = &others[i];
        (None, o.subject, o.start, o.end)
    })
}

/// The co-presence rule over `n` other stays read through `get`: venue (`None`: the case's),
/// subject, start and end.
fn pairs<'a>(
    case: &[Stay],
    n: usize,
    margin: Duration,
    get: impl Fn(usize) -> (Option<&'a str>, &'a str, DateTime<Utc>, DateTime<Utc>),
) -> Vec<(usize, usize, Duration)> {
    let margin = margin.max(Duration::zero());
    let case_subjects: Vec<&str> = case.iter().map(|s| s.subject.as_str()).collect();
    let mut out = Vec::new();
    for (ci, c) in case.iter().enumerate() {
        for oi in 0..n {
            let (venue, subject, start, end) = get(oi);
            if start > c.end + margin || end + margin < c.start {
                continue;
            }
            if venue.is_some_and(|v| v != c.venue_id) || case_subjects.contains(&subject) {
                continue;
            }
            let overlap = (end.min(c.end) - start.max(c.start)).max(Duration::zero());
            out.push((ci, oi, overlap));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// 2026-12-01 at `h:m` UTC.
    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap()
    }

    fn p(subject: &str, venue: &str, cp: &str, d: Direction, at: DateTime<Utc>) -> Passage {
        Passage {
            subject: subject.into(),
            venue_id: venue.into(),
            checkpoint_id: cp.into(),
            direction: d,
            at,
        }
    }

    use Direction::{Entry as In, Exit as Out};
    const AUTO: i64 = 4; // hours

    fn contacts_of(case: &str, passages: &[Passage], margin_min: i64) -> Vec<(String, String)> {
        let all = stays(passages, Duration::hours(AUTO));
        let (mine, others): (Vec<Stay>, Vec<Stay>) =
            all.into_iter().partition(|s| s.subject == case);
        let mut v: Vec<(String, String)> =
            co_present(&mine, &others, Duration::minutes(margin_min))
                .into_iter()
                .map(|c| (c.subject, c.venue_id))
                .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn stays_follow_entries_exits_gates_and_the_automatic_exit() {
        let ps = vec![
            // A: in at the south gate, scanned again at the north gate, out at north.
            p("A", "market", "south", In, t(9, 0)),
            p("A", "market", "north", In, t(9, 10)),
            p("A", "market", "north", Out, t(9, 40)),
            // A again in the afternoon: a second visit, no exit.
            p("A", "market", "south", In, t(15, 0)),
            // B: only an exit.
            p("B", "market", "south", Out, t(10, 0)),
        ];
        let s = stays(&ps, Duration::hours(AUTO));
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(
            (s[0].start, s[0].end, s[0].ended),
            (t(9, 0), t(9, 40), StayEnd::Exit)
        );
        assert_eq!(s[0].checkpoints, ["south", "north"]);
        assert_eq!(
            (s[1].start, s[1].end, s[1].ended),
            (t(15, 0), t(19, 0), StayEnd::AutoClosed)
        );
        assert_eq!(
            (s[2].subject.as_str(), s[2].ended),
            ("B", StayEnd::ExitOnly)
        );
        // Order of input does not matter.
        let mut rev = ps.clone();
        rev.reverse();
        assert_eq!(stays(&rev, Duration::hours(AUTO)), s);
    }

    #[test]
    fn an_entry_long_after_an_unclosed_one_starts_a_new_stay() {
        let ps = vec![
            p("A", "market", "south", In, t(6, 0)),
            p("A", "market", "south", In, t(11, 0)),
            p("A", "market", "south", Out, t(11, 30)),
        ];
        let s = stays(&ps, Duration::hours(AUTO));
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!((s[0].end, s[0].ended), (t(10, 0), StayEnd::AutoClosed));
        assert_eq!(
            (s[1].start, s[1].end, s[1].ended),
            (t(11, 0), t(11, 30), StayEnd::Exit)
        );
    }

    #[test]
    fn co_presence_by_hand_computed_sets() {
        let ps = vec![
            // The case: at the market 10:00–10:30; at the hospital 14:00 with no exit.
            p("case", "market", "south", In, t(10, 0)),
            p("case", "market", "south", Out, t(10, 30)),
            p("case", "hospital", "main", In, t(14, 0)),
            // Overlaps directly.
            p("overlap", "market", "north", In, t(10, 20)),
            p("overlap", "market", "north", Out, t(10, 50)),
            // Left 30 minutes before the case came: touches the 30-minute margin exactly.
            p("touch", "market", "south", In, t(9, 0)),
            p("touch", "market", "south", Out, t(9, 30)),
            // Left 31 minutes before: outside the margin.
            p("apart", "market", "south", In, t(9, 0)),
            p("apart", "market", "south", Out, t(9, 29)),
            // At the hospital three hours after the case came in, no exit recorded by the case:
            // the automatic exit (4 h) keeps the case there until 18:00.
            p("late", "hospital", "main", In, t(17, 0)),
            p("late", "hospital", "main", Out, t(17, 20)),
            // At the hospital after the case's automatic exit and the margin.
            p("after", "hospital", "main", In, t(18, 31)),
            // Visited the market twice: the morning visit overlaps, the evening one does not
            // (one contact, by its morning stay).
            p("twice", "market", "north", In, t(10, 5)),
            p("twice", "market", "north", Out, t(10, 10)),
            p("twice", "market", "north", In, t(20, 0)),
            p("twice", "market", "north", Out, t(20, 30)),
            // Same time, another venue.
            p("elsewhere", "library", "main", In, t(10, 0)),
            // A household checked in by one proxy: each member has their own record.
            p("grandma", "market", "south", In, t(10, 25)),
            p("grandson", "market", "south", In, t(10, 25)),
        ];
        assert_eq!(
            contacts_of("case", &ps, 30),
            [
                ("grandma".to_string(), "market".to_string()),
                ("grandson".into(), "market".into()),
                ("late".into(), "hospital".into()),
                ("overlap".into(), "market".into()),
                ("touch".into(), "market".into()),
                ("twice".into(), "market".into()),
            ]
        );
        // No margin: touching at 9:30 vs 10:00 no longer counts.
        let tight = contacts_of("case", &ps, 0);
        assert!(
            !tight.contains(&("touch".into(), "market".into())),
            "{tight:?}"
        );
        assert!(tight.contains(&("overlap".into(), "market".into())));
        // One contact per pair of stays: "twice" once (only the morning stay overlaps).
        let all = stays(&ps, Duration::hours(AUTO));
        let (mine, others): (Vec<Stay>, Vec<Stay>) =
            all.into_iter().partition(|s| s.subject == "case");
        let c = co_present(&mine, &others, Duration::minutes(30));
        assert_eq!(c.iter().filter(|c| c.subject == "twice").count(), 1);
        let o = c.iter().find(|c| c.subject == "overlap").unwrap();
        assert_eq!(o.overlap, Duration::minutes(10));
        assert_eq!(
            c.iter().find(|c| c.subject == "touch").unwrap().overlap,
            Duration::zero()
        );
    }

    #[test]
    fn spans_follow_the_same_rules_as_stays() {
        // Many people at one venue, passages in a scrambled order, exits missing, two gates,
        // exits alone, refusals read as exits, equal instants: spans and stays agree.
        let mut seed = 0x5EEDu64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let mut ps = Vec::new();
        for _ in 0..3_000 {
            let who = format!("{:024x}", next(40) * 0x1_0000_0001);
            let d = if next(3) == 0 { Out } else { In };
            let gate = if next(2) == 0 { "north" } else { "south" };
            ps.push(p(
                &who,
                "market",
                gate,
                d,
                t(0, 0) + Duration::minutes(next(60 * 48) as i64),
            ));
        }
        let auto = Duration::hours(AUTO);
        let expected: Vec<(String, DateTime<Utc>, DateTime<Utc>, StayEnd)> = stays(&ps, auto)
            .into_iter()
            .map(|s| (s.subject, s.start, s.end, s.ended))
            .collect();
        let marks: Vec<Mark> = ps
            .iter()
            .map(|p| Mark {
                subject: &p.subject,
                direction: p.direction,
                at: p.at,
            })
            .collect();
        let got: Vec<(String, DateTime<Utc>, DateTime<Utc>, StayEnd)> = spans(&marks, auto)
            .into_iter()
            .map(|s| (s.subject.to_string(), s.start, s.end, s.ended))
            .collect();
        assert!(expected.len() > 100, "{}", expected.len());
        assert!(expected.iter().any(|s| s.3 == StayEnd::ExitOnly));
        assert!(expected.iter().any(|s| s.3 == StayEnd::AutoClosed));
        assert_eq!(got, expected);
        // And the pairs they make with a case are the same.
        let all = stays(&ps, auto);
        let case_subject = all[0].subject.clone();
        let (case, others): (Vec<Stay>, Vec<Stay>) =
            all.into_iter().partition(|s| s.subject == case_subject);
        let spans_others: Vec<Span> = spans(&marks, auto)
            .into_iter()
            .filter(|s| s.subject != case_subject)
            .collect();
        let margin = Duration::minutes(30);
        let pairs = overlaps(&case, &others, margin);
        assert!(pairs.len() > 10, "{}", pairs.len());
        assert_eq!(span_overlaps(&case, &spans_others, margin), pairs);
        // A short subject sorts before its extensions, as strings do.
        let short = [
            Mark {
                subject: "ab",
                direction: In,
                at: t(9, 0),
            },
            Mark {
                subject: "a",
                direction: In,
                at: t(9, 0),
            },
            Mark {
                subject: "ab\u{0}",
                direction: In,
                at: t(9, 0),
            },
        ];
        let order: Vec<&str> = spans(&short, auto).iter().map(|s| s.subject).collect();
        assert_eq!(order, ["a", "ab", "ab\u{0}"]);
    }
}
