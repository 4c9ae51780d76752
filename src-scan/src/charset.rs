//! Text from a QR code's byte-mode payload. The standard says ISO-8859-1 unless an ECI says
//! otherwise, but real codes carry UTF-8, Shift_JIS (Japan) and GB18030/GBK (China) without ECI.
//! The guess follows ZXing's `StringUtils.guessEncoding` (UTF-8 with multi-byte sequences, then
//! Shift_JIS by its katakana and double-byte runs, else ISO-8859-1), with one addition for our
//! users: bytes that ZXing would call ISO-8859-1 but that decode cleanly as GB18030 and contain
//! CJK ideographs are read as GB18030.
//!
//! Invariant: never fails; some text always comes out.

use encoding_rs::{GB18030, SHIFT_JIS};

/// Decodes a payload to text.
pub fn decode(bytes: &[u8]) -> String {
    match guess(bytes) {
        Guess::Utf8 => {
            String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
                .into_owned()
        }
        Guess::ShiftJis => SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned(),
        Guess::Latin1 => {
            if let Some(text) = GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
                if text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)) {
                    return text.into_owned();
                }
            }
            bytes.iter().map(|&b| char::from(b)).collect()
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Guess {
    Utf8,
    ShiftJis,
    Latin1,
}

fn guess(bytes: &[u8]) -> Guess {
    let (mut can_iso, mut can_sjis, mut can_utf8) = (true, true, true);
    let (mut utf8_left, mut utf8_multi) = (0u32, 0u32);
    let mut sjis_left = 0u32;
    let (mut sjis_kata, mut kata_run, mut dbl_run, mut max_kata_run, mut max_dbl_run) =
        (0u32, 0u32, 0u32, 0u32, 0u32);
    let mut iso_high_other = 0usize;
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    for &v in bytes {
        if can_utf8 {
            if utf8_left > 0 {
                if v & 0x80 == 0 {
                    can_utf8 = false;
                } else {
                    utf8_left -= 1;
                }
            } else if v & 0x80 != 0 {
                if v & 0x40 == 0 {
                    can_utf8 = false;
                } else {
                    utf8_left += 1;
                    utf8_multi += 1;
                    if v & 0x20 != 0 {
                        utf8_left += 1;
                        if v & 0x10 != 0 {
                            utf8_left += 1;
                            if v & 0x08 != 0 {
                                can_utf8 = false;
                            }
                        }
                    }
                }
            }
        }
        if can_iso {
            if v > 0x7F && v < 0xA0 {
                can_iso = false;
            } else if v > 0x9F && (v < 0xC0 || v == 0xD7 || v == 0xF7) {
                iso_high_other += 1;
            }
        }
        if can_sjis {
            if sjis_left > 0 {
                if v < 0x40 || v == 0x7F || v > 0xFC {
                    can_sjis = false;
                } else {
                    sjis_left -= 1;
                }
            } else if v == 0x80 || v == 0xA0 || v > 0xEF {
                can_sjis = false;
            } else if v > 0xA0 && v < 0xE0 {
                sjis_kata += 1;
                dbl_run = 0;
                kata_run += 1;
                max_kata_run = max_kata_run.max(kata_run);
            } else if v > 0x7F {
                sjis_left += 1;
                kata_run = 0;
                dbl_run += 1;
                max_dbl_run = max_dbl_run.max(dbl_run);
            } else {
                kata_run = 0;
                dbl_run = 0;
            }
        }
    }
    if utf8_left > 0 {
        can_utf8 = false;
    }
    if sjis_left > 0 {
        can_sjis = false;
    }
    if can_utf8 && (bom || utf8_multi > 0) {
        return Guess::Utf8;
    }
    if can_sjis && (max_kata_run >= 3 || max_dbl_run >= 3) {
        return Guess::ShiftJis;
    }
    if can_iso && can_sjis {
        return if (max_kata_run == 2 && sjis_kata == 2) || iso_high_other * 10 >= bytes.len() {
            Guess::ShiftJis
        } else {
            Guess::Latin1
        };
    }
    if can_iso {
        Guess::Latin1
    } else if can_sjis {
        Guess::ShiftJis
    } else if can_utf8 {
        Guess::Utf8
    } else {
        Guess::Latin1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_ascii_sjis_gb_and_latin1() {
        assert_eq!(decode("场所码 VenueCode".as_bytes()), "场所码 VenueCode");
        assert_eq!(decode(b"JKM1:ABC"), "JKM1:ABC");
        let (sjis, _, _) = SHIFT_JIS.encode("ﾃﾞｻﾞｲﾝQR");
        assert_eq!(decode(&sjis), "ﾃﾞｻﾞｲﾝQR");
        let (sjis, _, _) = SHIFT_JIS.encode("日本語のテキスト");
        assert_eq!(decode(&sjis), "日本語のテキスト");
        assert_eq!(decode(b"caf\xE9"), "café");
        assert_eq!(decode(b"\xFF\xFE\x80"), "\u{FF}\u{FE}\u{80}");
    }
}
