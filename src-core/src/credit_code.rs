//! 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters — registration
//! authority, organisation type, the 6-digit administrative division, the 9-character
//! organisation code, and a check character. The seeds insist a venue's registered name match the
//! unit's code, so an application carries one and it is checked here before anything is stored.
//!
//! Invariant: [`CreditCode::parse`] accepts exactly the 31-character alphabet (digits and capital
//! letters without I, O, Z, S, V), the division digits, and the check character computed with the
//! standard's weights; lower case is read as upper case, spaces are not.

/// The alphabet, in value order (GB 32100 table 1).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A checked unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

/// Why a credit code is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a unified social credit code has 18 characters, not {0}")]
    Length(usize),
    #[error("character {position} ({found:?}) is not used in credit codes (digits and capital letters except I, O, Z, S, V)")]
    Character { position: usize, found: char },
    #[error("characters 3 to 8 are the administrative division code and must be digits")]
    Division,
    #[error("the check character should be {expected}, not {found}: a character was mistyped")]
    Check { expected: char, found: char },
}

impl CreditCodeError {
    /// A stable code for the UI's catalogue and the API.
    pub fn code(&self) -> &'static str {
        match self {
            CreditCodeError::Length(_) => "credit_code_length",
            CreditCodeError::Character { .. } => "credit_code_character",
            CreditCodeError::Division => "credit_code_division",
            CreditCodeError::Check { .. } => "credit_code_check",
        }
    }
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

impl CreditCode {
    /// Parses and checks a code.
    pub fn parse(text: &str) -> Result<CreditCode, CreditCodeError> {
        let upper = text.to_ascii_uppercase();
        let n = upper.chars().count();
        if n != 18 || upper.len() != 18 {
            return Err(CreditCodeError::Length(n));
        }
        let bytes = upper.as_bytes();
        let mut values = [0u32; 18];
        for (i, &b) in bytes.iter().enumerate() {
            values[i] = value(b).ok_or(CreditCodeError::Character {
                position: i + 1,
                found: b as char,
            })?;
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(CreditCodeError::Division);
        }
        let sum: u32 = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
        let check = (31 - sum % 31) % 31;
        let expected = ALPHABET[check as usize] as char;
        if values[17] != check {
            return Err(CreditCodeError::Check {
                expected,
                found: bytes[17] as char,
            });
        }
        Ok(CreditCode(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative division the unit registered in (characters 3–8).
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_pass_and_every_mistype_is_named() {
        for real in [
            "9144030071526726XG",
            "91330100716105852F",
            "914403001922038216",
            "91110000100010249W",
        ] {
            let c = CreditCode::parse(real).unwrap();
            assert_eq!(c.as_str(), real);
        }
        assert_eq!(
            CreditCode::parse("9144030071526726xg").unwrap().division(),
            "440300"
        );
        assert_eq!(
            CreditCode::parse("9144030071526726XA"),
            Err(CreditCodeError::Check {
                expected: 'G',
                found: 'A'
            })
        );
        assert_eq!(
            CreditCode::parse("9144030071526726X"),
            Err(CreditCodeError::Length(17))
        );
        assert!(matches!(
            CreditCode::parse("9144030071526726XI"),
            Err(CreditCodeError::Character { position: 18, .. })
        ));
        assert_eq!(
            CreditCode::parse("91A4030071526726XG"),
            Err(CreditCodeError::Division)
        );
        // Multi-byte input of 18 characters is not 18 bytes.
        assert!(CreditCode::parse("９144030071526726XG").is_err());
        // Every single-character change of a real code is caught.
        let real = b"91330100716105852F";
        for i in 0..18 {
            for &c in ALPHABET.iter() {
                if c == real[i] {
                    continue;
                }
                let mut m = real.to_vec();
                m[i] = c;
                let text = String::from_utf8(m).unwrap();
                assert!(CreditCode::parse(&text).is_err(), "{text} passed");
            }
        }
    }
}
