//! Place types (场所类型): the deployment's taxonomy of venues, each under one of the seven
//! categories signed into venue codes. Cities keep their own lists (茂名: 87 key-place types), so
//! the list is a table handed in, not code; a default list is compiled in.
//!
//! Invariants: pure (the table is text handed in); a type's code is its category's two digits
//! followed by two more, so the category is never ambiguous; codes are unique; names are present
//! in both languages, without control characters, at most 40 characters.

use std::collections::BTreeMap;

use crate::venue::VenueCategory;

/// The default list (`data/place-types-default.tsv`).
pub const DEFAULT_TABLE: &str = include_str!("../data/place-types-default.tsv");

/// The longest name a type may have, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// One place type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceType {
    /// Four digits: the category's two, then the type's.
    pub code: String,
    pub category: VenueCategory,
    pub name_zh: String,
    pub name_en: String,
}

/// A table of place types, by code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceTypes {
    by_code: BTreeMap<String, PlaceType>,
}

/// Why a place-type table could not be read (the line is 1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceTypeTableError {
    #[error("line {0}: expected code, Chinese name and English name separated by tabs")]
    Shape(usize),
    #[error("line {line}: {code:?} is not a category's two digits (01–06, 99) and two more")]
    Code { line: usize, code: String },
    #[error("line {line}: code {code} appears twice")]
    Duplicate { line: usize, code: String },
    #[error("line {0}: a name is empty, longer than 40 characters, or holds control characters")]
    Name(usize),
    #[error("the table holds no place type")]
    Empty,
}

impl PlaceTypes {
    /// Reads a table: `code<TAB>zh-CN name<TAB>English name` per line, `#` comments.
    pub fn parse(text: &str) -> Result<PlaceTypes, PlaceTypeTableError> {
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split('\t').collect();
            let [code, zh, en] = parts[..] else {
                return Err(PlaceTypeTableError::Shape(i + 1));
            };
            rows.push((i + 1, code, zh, en));
        }
        PlaceTypes::from_rows(rows)
    }

    /// Builds a table from `(line, code, zh-CN name, English name)` rows under the same rules
    /// as [`PlaceTypes::parse`] (a list the server sent is checked again where it is used).
    pub fn from_rows<'a>(
        rows: impl IntoIterator<Item = (usize, &'a str, &'a str, &'a str)>,
    ) -> Result<PlaceTypes, PlaceTypeTableError> {
        let mut by_code = BTreeMap::new();
        for (n, code, zh, en) in rows {
            let code = code.trim();
            let category = (code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()))
                .then(|| VenueCategory::from_code(&code[..2]))
                .flatten()
                .ok_or_else(|| PlaceTypeTableError::Code {
                    line: n,
                    code: code.into(),
                })?;
            let name = |s: &str| {
                let s = s.trim();
                let ok = !s.is_empty()
                    && s.chars().count() <= MAX_NAME_CHARS
                    && !s.chars().any(char::is_control);
                ok.then(|| s.to_string())
                    .ok_or(PlaceTypeTableError::Name(n))
            };
            let t = PlaceType {
                code: code.into(),
                category,
                name_zh: name(zh)?,
                name_en: name(en)?,
            };
            if by_code.insert(code.to_string(), t).is_some() {
                return Err(PlaceTypeTableError::Duplicate {
                    line: n,
                    code: code.into(),
                });
            }
        }
        if by_code.is_empty() {
            return Err(PlaceTypeTableError::Empty);
        }
        Ok(PlaceTypes { by_code })
    }

    /// The compiled-in default list.
    pub fn default_list() -> PlaceTypes {
        // The default table is checked by a test; an empty table refuses every type rather than
        // panicking if it were ever damaged.
        PlaceTypes::parse(DEFAULT_TABLE).unwrap_or_default()
    }

    /// The type with `code`, if the table has it.
    pub fn get(&self, code: &str) -> Option<&PlaceType> {
        self.by_code.get(code)
    }

    /// Every type, by code (so by category, then in the table's order of codes).
    pub fn all(&self) -> impl Iterator<Item = &PlaceType> {
        self.by_code.values()
    }

    /// How many types the table holds.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// Whether the table holds none.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_list_reads_and_covers_every_category() {
        let t = PlaceTypes::parse(DEFAULT_TABLE).unwrap();
        assert_eq!(t, PlaceTypes::default_list());
        assert!(t.len() >= 50, "{}", t.len());
        for c in VenueCategory::ALL {
            assert!(t.all().any(|p| p.category == c), "no type under {c:?}");
        }
        let market = t.get("0203").unwrap();
        assert_eq!(market.category, VenueCategory::Business);
        assert_eq!(market.name_zh, "农集贸市场");
        assert!(t.get("0299").is_none());
    }

    #[test]
    fn a_bad_table_is_refused_with_its_line() {
        let e = |text: &str| PlaceTypes::parse(text).unwrap_err();
        assert_eq!(e("0101\t党政机关"), PlaceTypeTableError::Shape(1));
        assert_eq!(
            e("# c\n0701\t甲\tA"),
            PlaceTypeTableError::Code {
                line: 2,
                code: "0701".into()
            }
        );
        assert!(matches!(e("01x1\t甲\tA"), PlaceTypeTableError::Code { .. }));
        assert_eq!(
            e("0101\t甲\tA\n0101\t乙\tB"),
            PlaceTypeTableError::Duplicate {
                line: 2,
                code: "0101".into()
            }
        );
        assert_eq!(e("0101\t\tA"), PlaceTypeTableError::Name(1));
        assert_eq!(e("0101\t甲\u{7}\tA"), PlaceTypeTableError::Name(1));
        assert_eq!(
            e(&format!("0101\t{}\tA", "长".repeat(41))),
            PlaceTypeTableError::Name(1)
        );
        assert_eq!(e("# only comments\n\n"), PlaceTypeTableError::Empty);
        // Windows line ends are fine.
        assert_eq!(PlaceTypes::parse("9999\t其他\tOther\r\n").unwrap().len(), 1);
    }
}
