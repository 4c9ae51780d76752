//! Masking of personal data for display, logs and health-code claims.
//!
//! Rules (documented in docs/formats.md):
//! - Names keep the surname and, from three characters on, the last character; every other
//!   character becomes `*`, one star per character. Two-character compound surnames (欧阳, 司马…)
//!   count as the surname. Names with the `·` separator (minority and transliterated names) keep
//!   their first and last character and every separator. One-character names become `*`.
//!   Examples: 张三 → 张*, 张三丰 → 张*丰, 欧阳娜娜 → 欧阳*娜, 阿依古丽·买买提 → 阿***·**提.
//! - Phone numbers keep the first 3 and last 4 digits of an 11-digit mobile number
//!   (13800138000 → 138****8000); other lengths keep only the last 2 characters visible.
//! - ID numbers keep the first 4 and last 4 characters (110105194912310021 → 1101**********0021).
//!
//! Invariant: the output never contains a masked-out character of the input, and has as many
//! characters as the trimmed input.

/// Two-character surnames recognised by [`mask_name`].
const COMPOUND_SURNAMES: [&str; 30] = [
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "令狐", "夏侯", "端木", "轩辕", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "澹台", "公冶",
    "太史", "申屠", "钟离", "闻人", "赫连", "拓跋",
];

/// Separators between the parts of a transliterated name.
fn is_separator(c: char) -> bool {
    matches!(c, '·' | '•' | '・' | '.' | ' ' | '-')
}

/// Masks a person's name.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if n == 1 {
        return "*".to_string();
    }
    let has_separator = chars.iter().any(|&c| is_separator(c));
    let keep_prefix = if !has_separator && n >= 3 && is_compound_surname(&chars) {
        2
    } else {
        1
    };
    let keep_last = n >= keep_prefix + 2 || has_separator;
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i < keep_prefix || (keep_last && i == n - 1) || (has_separator && is_separator(c)) {
                c
            } else {
                '*'
            }
        })
        .collect()
}

fn is_compound_surname(chars: &[char]) -> bool {
    let first_two: String = chars.iter().take(2).collect();
    COMPOUND_SURNAMES.contains(&first_two.as_str())
}

/// Masks a phone number.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    let visible = |i: usize| {
        if n == 11 {
            !(3..7).contains(&i)
        } else {
            n > 2 && i >= n - 2
        }
    };
    (0..n)
        .map(|i| if visible(i) { chars[i] } else { '*' })
        .collect()
}

/// Masks an ID number (or any identifier): first 4 and last 4 characters stay when it has at
/// least 12; shorter ones keep only the last 2.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    (0..n)
        .map(|i| {
            let visible = if n >= 12 {
                !(4..n - 4).contains(&i)
            } else {
                n > 2 && i >= n - 2
            };
            if visible {
                chars[i]
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names() {
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张三丰"), "张*丰");
        assert_eq!(mask_name("张小三丰"), "张**丰");
        assert_eq!(mask_name(" 李四 "), "李*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn compound_surnames() {
        assert_eq!(mask_name("欧阳修"), "欧阳*");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳*娜");
        assert_eq!(mask_name("诸葛孔明"), "诸葛*明");
        // Two characters: a compound surname alone is still a two-character name.
        assert_eq!(mask_name("欧阳"), "欧*");
    }

    #[test]
    fn names_with_separators() {
        assert_eq!(mask_name("阿依古丽·买买提"), "阿***·**提");
        assert_eq!(mask_name("迪丽热巴·迪力木拉提"), "迪***·****提");
        assert_eq!(mask_name("A·B"), "A·B");
        assert_eq!(mask_name("John Smith"), "J*** ****h");
    }

    #[test]
    fn phones() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0997-1234567"), "**********67");
        assert_eq!(mask_phone("12"), "**");
        assert_eq!(mask_phone(""), "");
    }

    #[test]
    fn id_numbers() {
        assert_eq!(mask_id_number("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_id_number("123456"), "****56");
    }

    #[test]
    fn masking_keeps_length_and_hides_the_middle() {
        for s in [
            "张三丰",
            "13800138000",
            "11010519491231002X",
            "阿依古丽·买买提",
        ] {
            for masked in [mask_name(s), mask_phone(s), mask_id_number(s)] {
                assert_eq!(masked.chars().count(), s.chars().count());
                assert!(masked.contains('*'));
            }
        }
    }
}
