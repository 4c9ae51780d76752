//! Base45 (RFC 9285): bytes ⇄ text in the QR alphanumeric alphabet, so a code fills the QR in its
//! densest text mode (5.5 bits per character).
//!
//! Invariant: `decode(encode(b)) == b` for every byte string; `decode` rejects, never panics on,
//! any other text.

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// What is wrong with a Base45 text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base45Error {
    #[error("character {found:?} at position {position} is not in the Base45 alphabet")]
    Character { position: usize, found: char },
    #[error("Base45 text of {len} characters is cut short (a group of one character is left)")]
    Truncated { len: usize },
    #[error("Base45 group at position {position} is out of range")]
    Overflow { position: usize },
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// Encodes bytes as Base45 text.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() / 2 * 3 + 2);
    let mut push = |v: u32| out.push(ALPHABET[v as usize] as char);
    for chunk in bytes.chunks(2) {
        if let [a, b] = chunk {
            let n = u32::from(*a) * 256 + u32::from(*b);
            push(n % 45);
            push(n / 45 % 45);
            push(n / 2025);
        } else {
            let n = u32::from(chunk[0]);
            push(n % 45);
            push(n / 45);
        }
    }
    out
}

/// Decodes Base45 text into bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let mut digits = Vec::with_capacity(text.len());
    for (position, c) in text.chars().enumerate() {
        let v = u8::try_from(c)
            .ok()
            .and_then(value)
            .ok_or(Base45Error::Character { position, found: c })?;
        digits.push(v);
    }
    if digits.len() % 3 == 1 {
        return Err(Base45Error::Truncated { len: digits.len() });
    }
    let mut out = Vec::with_capacity(digits.len() / 3 * 2 + 1);
    for (i, group) in digits.chunks(3).enumerate() {
        let position = i * 3;
        match *group {
            [c, d, e] => {
                let n = c + d * 45 + e * 2025;
                if n > 0xFFFF {
                    return Err(Base45Error::Overflow { position });
                }
                out.push((n >> 8) as u8);
                out.push((n & 0xFF) as u8);
            }
            [c, d] => {
                let n = c + d * 45;
                if n > 0xFF {
                    return Err(Base45Error::Overflow { position });
                }
                out.push(n as u8);
            }
            _ => return Err(Base45Error::Truncated { len: digits.len() }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(decode("").unwrap(), b"");
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(matches!(decode("GGW"), Err(Base45Error::Overflow { .. })));
        assert!(matches!(
            decode("ab"),
            Err(Base45Error::Character { position: 0, .. })
        ));
        assert!(matches!(
            decode("BB8B"),
            Err(Base45Error::Truncated { len: 4 })
        ));
        assert!(matches!(decode("場所"), Err(Base45Error::Character { .. })));
        assert!(matches!(decode(":::"), Err(Base45Error::Overflow { .. })));
    }

    #[test]
    fn round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).cycle().take(600).collect();
        for len in 0..data.len() {
            assert_eq!(decode(&encode(&data[..len])).unwrap(), &data[..len]);
        }
    }
}
