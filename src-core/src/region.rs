//! Administrative regions, province down to community, from a code table: a venue applies under
//! a community, a reviewer serves communities, an authority a district — all by code prefix.
//!
//! Invariants: pure (the table is text handed in; the demo table is compiled in); every code's
//! parent is in the table and is a prefix of it; lookups never guess a region that is not there.

use std::collections::BTreeMap;

/// The regions the demo needs (`data/regions-demo.tsv`).
pub const DEMO_TABLE: &str = include_str!("../data/regions-demo.tsv");

/// One region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
}

/// A region table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regions {
    by_code: BTreeMap<String, Region>,
    /// Codes that are some region's parent (so [`Regions::is_leaf`] is one lookup).
    parents: std::collections::BTreeSet<String>,
}

/// Why a region table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionTableError {
    #[error("line {0}: expected code, name and parent separated by tabs")]
    Shape(usize),
    #[error("line {0}: a code is 2 to 12 digits")]
    Code(usize),
    #[error(
        "line {line}: parent {parent} is not in the table before it, or not a prefix of {code}"
    )]
    Parent {
        line: usize,
        code: String,
        parent: String,
    },
}

impl Regions {
    /// Reads a table: `code<TAB>name<TAB>parent` per line (parent empty for a province), `#`
    /// comments; a parent must come before its children.
    pub fn parse(text: &str) -> Result<Regions, RegionTableError> {
        let mut by_code = BTreeMap::new();
        let mut parents = std::collections::BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split('\t');
            let (Some(code), Some(name)) = (parts.next(), parts.next()) else {
                return Err(RegionTableError::Shape(n));
            };
            let parent = parts.next().unwrap_or("").trim();
            if !(2..=12).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RegionTableError::Code(n));
            }
            let parent = if parent.is_empty() {
                None
            } else {
                if !by_code.contains_key(parent) || !code.starts_with(parent) || code == parent {
                    return Err(RegionTableError::Parent {
                        line: n,
                        code: code.into(),
                        parent: parent.into(),
                    });
                }
                parents.insert(parent.to_string());
                Some(parent.to_string())
            };
            by_code.insert(
                code.to_string(),
                Region {
                    code: code.into(),
                    name: name.trim().into(),
                    parent,
                },
            );
        }
        Ok(Regions { by_code, parents })
    }

    /// The demo table.
    pub fn demo() -> Regions {
        // The compiled-in table is checked by a unit test; an empty table is the fallback.
        Regions::parse(DEMO_TABLE).unwrap_or_default()
    }

    pub fn get(&self, code: &str) -> Option<&Region> {
        self.by_code.get(code)
    }

    /// A community: a region with no child in the table (venues apply under one).
    pub fn is_leaf(&self, code: &str) -> bool {
        self.by_code.contains_key(code) && !self.parents.contains(code)
    }

    /// The regions directly under `parent` (provinces when `None`), by code; a prefix scan of
    /// the table, since a child's code starts with its parent's.
    pub fn children(&self, parent: Option<&str>) -> Vec<&Region> {
        let from = parent.unwrap_or("");
        self.by_code
            .range(from.to_string()..)
            .take_while(|(code, _)| code.starts_with(from))
            .map(|(_, r)| r)
            .filter(|r| r.parent.as_deref() == parent)
            .collect()
    }

    /// The full name, province first (e.g. 新疆维吾尔自治区 阿拉尔市 金银川路街道 幸福路社区).
    pub fn full_name(&self, code: &str) -> Option<String> {
        let mut names = Vec::new();
        let mut at = self.get(code)?;
        loop {
            names.push(at.name.as_str());
            match at.parent.as_deref().and_then(|p| self.get(p)) {
                Some(p) => at = p,
                None => break,
            }
        }
        names.reverse();
        Some(names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_listed_level_by_level() {
        let r = Regions::demo();
        let provinces: Vec<&str> = r.children(None).iter().map(|r| r.code.as_str()).collect();
        assert_eq!(provinces, ["44", "65"]);
        let under: Vec<&str> = r
            .children(Some("659002001"))
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(under, ["659002001001", "659002001002"]);
        assert!(r.children(Some("659002001001")).is_empty());
    }

    #[test]
    fn the_demo_table_reads_and_names_communities() {
        let r = Regions::parse(DEMO_TABLE).unwrap();
        assert!(r.is_leaf("659002001001"));
        assert!(!r.is_leaf("659002001") && !r.is_leaf("999999"));
        assert_eq!(
            r.full_name("659002001001").unwrap(),
            "新疆维吾尔自治区 自治区直辖县级行政区划 阿拉尔市 金银川路街道 幸福路社区"
        );
        assert_eq!(
            Regions::parse("65\tX\t\n6590\tY\t44\n"),
            Err(RegionTableError::Parent {
                line: 2,
                code: "6590".into(),
                parent: "44".into()
            })
        );
        assert_eq!(Regions::parse("6a\tX\t\n"), Err(RegionTableError::Code(1)));
        assert_eq!(Regions::parse("65\n"), Err(RegionTableError::Shape(1)));
    }
}
