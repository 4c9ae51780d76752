//! Resident identity card numbers (居民身份证号码, GB 11643-1999): parsing and validation.
//!
//! A number is 18 characters: a 6-digit administrative region code, the birth date as YYYYMMDD, a
//! 3-digit sequence (odd for men, even for women) and a check character computed with
//! ISO 7064 MOD 11-2 (`0`–`9` or `X`).
//!
//! Input is normalised before checking: surrounding whitespace is dropped, full-width digits and
//! `Ｘ` (as typed with a Chinese input method) become ASCII, and a lower-case `x` becomes `X`.
//! Each failure names what is wrong, in the order a person would fix it: length, characters,
//! region, birth date, check digit.
//!
//! Invariant: an [`IdNumber`] always holds 18 ASCII characters that passed every check against the
//! `today` it was validated with.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// Weights of positions 1–17 for ISO 7064 MOD 11-2 (2^(18-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check characters indexed by (sum mod 11).
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Province-level codes (the first two digits) in use: the 31 mainland provinces, Taiwan (71),
/// Hong Kong (81), Macao (82) and the residence-permit code for Taiwan residents (83).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// The earliest birth year accepted.
const MIN_BIRTH_YEAR: i32 = 1900;

/// What is wrong with an ID number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Exhaustive on purpose: the app maps every variant onto the UI's reasons with a `match`, so a
// new one does not compile until it is named and translated.
pub enum IdNumberError {
    #[error("an ID number has 18 characters, this one has {found}")]
    Length { found: usize },
    #[error("character {position} ({found:?}) must be a digit{}", if *position == 18 { " or X" } else { "" })]
    Character { position: usize, found: char },
    #[error("region code {code} does not exist (province {province:02} is unknown)")]
    Region { code: String, province: u8 },
    #[error("birth date {digits} is not a real date")]
    BirthDateInvalid { digits: String },
    #[error("birth date {date} is in the future")]
    BirthDateFuture { date: NaiveDate },
    #[error("birth date {date} is before {MIN_BIRTH_YEAR}")]
    BirthDateTooOld { date: NaiveDate },
    #[error(
        "check digit is {found}, but the first 17 digits give {expected}: a digit is mistyped"
    )]
    CheckDigit { expected: char, found: char },
}

impl IdNumberError {
    /// A stable machine code for the failure (for the UI's i18n and for scripts).
    pub fn code(&self) -> &'static str {
        match self {
            IdNumberError::Length { .. } => "length",
            IdNumberError::Character { .. } => "character",
            IdNumberError::Region { .. } => "region",
            IdNumberError::BirthDateInvalid { .. } => "birth_date",
            IdNumberError::BirthDateFuture { .. } => "birth_date_future",
            IdNumberError::BirthDateTooOld { .. } => "birth_date_too_old",
            IdNumberError::CheckDigit { .. } => "check_digit",
        }
    }
}

/// Sex as encoded by the sequence number's parity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// A validated ID number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    digits: String,
    birth: NaiveDate,
}

impl fmt::Debug for IdNumber {
    // Never print a full ID number in logs or panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", crate::mask::mask_id_number(&self.digits))
    }
}

impl IdNumber {
    /// Validates `input` as of `today` (birth dates after it are refused).
    pub fn parse(input: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let chars = normalise(input);
        if chars.len() != 18 {
            return Err(IdNumberError::Length { found: chars.len() });
        }
        for (i, &c) in chars.iter().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
            if !ok {
                return Err(IdNumberError::Character {
                    position: i + 1,
                    found: c,
                });
            }
        }
        let digits: String = chars.iter().collect();
        let province = (digits.as_bytes()[0] - b'0') * 10 + (digits.as_bytes()[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdNumberError::Region {
                code: digits[..6].to_string(),
                province,
            });
        }
        let date_digits = &digits[6..14];
        let year: i32 = date_digits[..4].parse().unwrap_or(0);
        let month: u32 = date_digits[4..6].parse().unwrap_or(0);
        let day: u32 = date_digits[6..8].parse().unwrap_or(0);
        let birth = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
            IdNumberError::BirthDateInvalid {
                digits: date_digits.to_string(),
            }
        })?;
        if birth > today {
            return Err(IdNumberError::BirthDateFuture { date: birth });
        }
        if birth.year() < MIN_BIRTH_YEAR {
            return Err(IdNumberError::BirthDateTooOld { date: birth });
        }
        let expected = check_char(&digits[..17]);
        let found = chars[17];
        if expected != found {
            return Err(IdNumberError::CheckDigit { expected, found });
        }
        Ok(IdNumber { digits, birth })
    }

    /// The 18 normalised characters. Personal data: mask before showing or logging.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The 6-digit region code.
    pub fn region(&self) -> &str {
        &self.digits[..6]
    }

    /// The birth date.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth
    }

    /// Sex from the parity of the 17th digit.
    pub fn sex(&self) -> Sex {
        if (self.digits.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The masked form for display.
    pub fn masked(&self) -> String {
        crate::mask::mask_id_number(&self.digits)
    }
}

/// The check character for the first 17 digits (which must be ASCII digits).
pub fn check_char(first17: &str) -> char {
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b.wrapping_sub(b'0')) * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn normalise(input: &str) -> Vec<char> {
    input
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            'x' | 'Ｘ' | 'ｘ' => 'X',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// Builds a valid number from 17 digits.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17))
    }

    #[test]
    fn known_valid_numbers() {
        // The example from GB 11643-1999 and a number whose check character is X.
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.region(), "110105");
        let id = IdNumber::parse("440524188001010014", NaiveDate::MAX);
        assert!(matches!(id, Err(IdNumberError::BirthDateTooOld { .. })));
        assert_eq!(check_char("34052419800101001"), 'X');
    }

    #[test]
    fn x_check_digit_any_case_and_full_width() {
        let n = with_check("34052419800101001");
        assert!(n.ends_with('X'));
        for input in [
            n.clone(),
            n.to_lowercase(),
            n.replace('X', "Ｘ"),
            format!("  {n}\t"),
        ] {
            let id = IdNumber::parse(&input, today()).unwrap();
            assert_eq!(id.as_str(), n);
        }
        let full_width: String = n
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from_u32('０' as u32 + (c as u32 - '0' as u32)).unwrap()
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(IdNumber::parse(&full_width, today()).unwrap().as_str(), n);
    }

    #[test]
    fn wrong_check_digit_names_the_expected_one() {
        let n = with_check("11010519491231002");
        let mut wrong = n[..17].to_string();
        wrong.push(if n.ends_with('0') { '1' } else { '0' });
        match IdNumber::parse(&wrong, today()) {
            Err(IdNumberError::CheckDigit { expected, .. }) => {
                assert_eq!(expected, n.chars().last().unwrap())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn length_17_and_19() {
        let n = with_check("11010519491231002");
        assert_eq!(
            IdNumber::parse(&n[..17], today()),
            Err(IdNumberError::Length { found: 17 })
        );
        assert_eq!(
            IdNumber::parse(&format!("{n}1"), today()),
            Err(IdNumberError::Length { found: 19 })
        );
        assert_eq!(
            IdNumber::parse("", today()),
            Err(IdNumberError::Length { found: 0 })
        );
    }

    #[test]
    fn bad_characters_name_their_position() {
        let n = with_check("11010519491231002");
        let bad = format!("1101A5{}", &n[6..]);
        assert_eq!(
            IdNumber::parse(&bad, today()),
            Err(IdNumberError::Character {
                position: 5,
                found: 'A'
            })
        );
        let x_inside = format!("1101X5{}", &n[6..]);
        assert!(matches!(
            IdNumber::parse(&x_inside, today()),
            Err(IdNumberError::Character { position: 5, .. })
        ));
    }

    #[test]
    fn unknown_province_codes() {
        for p in [
            "00", "10", "16", "20", "24", "30", "38", "47", "55", "60", "66", "72", "84", "99",
        ] {
            let n = with_check(&format!("{p}0105{}", "19491231002"));
            assert!(
                matches!(
                    IdNumber::parse(&n, today()),
                    Err(IdNumberError::Region { .. })
                ),
                "province {p} accepted"
            );
        }
    }

    #[test]
    fn feb_29_on_leap_and_non_leap_years() {
        for year in ["2000", "2004", "1996", "2024"] {
            let n = with_check(&format!("110105{year}0229001"));
            assert!(IdNumber::parse(&n, today()).is_ok(), "{year}-02-29 refused");
        }
        for year in ["1900", "2001", "2023", "2100"] {
            let n = with_check(&format!("110105{year}0229001"));
            let err = IdNumber::parse(&n, NaiveDate::MAX).unwrap_err();
            assert_eq!(err.code(), "birth_date", "{year}-02-29 accepted");
        }
    }

    #[test]
    fn impossible_and_future_dates() {
        for d in ["19491331", "19490001", "19490431", "19490100", "00000000"] {
            let n = with_check(&format!("110105{d}002"));
            assert_eq!(
                IdNumber::parse(&n, today()).unwrap_err().code(),
                "birth_date",
                "{d}"
            );
        }
        let tomorrow = with_check("11010520261123002");
        assert!(matches!(
            IdNumber::parse(&tomorrow, today()),
            Err(IdNumberError::BirthDateFuture { .. })
        ));
        let born_today = with_check("11010520261122002");
        assert!(IdNumber::parse(&born_today, today()).is_ok());
    }

    #[test]
    fn debug_never_shows_the_full_number() {
        let n = with_check("11010519491231002");
        let id = IdNumber::parse(&n, today()).unwrap();
        assert!(!format!("{id:?}").contains(&n));
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for s in [
            "",
            "X",
            "ＸＸＸＸＸＸＸＸＸＸＸＸＸＸＸＸＸＸ",
            "１",
            "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
        ] {
            let _ = IdNumber::parse(s, today());
        }
    }
}
