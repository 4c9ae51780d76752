//! A venue's checkpoints (检测点: 南门, 北门 …) as its administrator edits them: one door, one
//! code (一门一码), one responsible person (一门一人).
//!
//! Invariants: pure; [`check`] reports every problem at once with the application form's stable
//! codes; a checked checkpoint holds a trimmed name of 1–20 characters and a responsible person
//! with a mobile or landline number, none with control characters.

use serde::{Deserialize, Serialize};

use crate::application::{is_phone, text, Field, Problem};

/// What the administrator sends to add or change a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInput {
    pub name: String,
    pub responsible_name: String,
    pub responsible_phone: String,
    /// A disabled checkpoint enrols no station and records nothing.
    #[serde(default)]
    pub disabled: bool,
}

/// A checked checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointSpec {
    pub name: String,
    pub responsible_name: String,
    pub responsible_phone: String,
    pub disabled: bool,
}

/// Checks a checkpoint; every problem at once.
pub fn check(input: &CheckpointInput) -> Result<CheckpointSpec, Vec<Problem>> {
    let mut p = Vec::new();
    let name = text(&mut p, Field::CheckpointName, &input.name, (1, 20));
    let responsible_name = text(
        &mut p,
        Field::ResponsibleName,
        &input.responsible_name,
        (2, 20),
    );
    let phone = input.responsible_phone.trim().to_string();
    if !is_phone(&phone) {
        p.push(Problem {
            field: Field::ResponsiblePhone,
            code: "bad_phone".into(),
            message: "a mobile number (11 digits) or a landline with its area code".into(),
        });
    }
    if !p.is_empty() {
        return Err(p);
    }
    Ok(CheckpointSpec {
        name,
        responsible_name,
        responsible_phone: phone,
        disabled: input.disabled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, who: &str, phone: &str) -> CheckpointInput {
        CheckpointInput {
            name: name.into(),
            responsible_name: who.into(),
            responsible_phone: phone.into(),
            disabled: false,
        }
    }

    #[test]
    fn a_good_checkpoint_passes_trimmed() {
        let c = check(&input(" 北门 ", "王五", "13800138000")).unwrap();
        assert_eq!(c.name, "北门");
        assert_eq!(c.responsible_name, "王五");
        assert!(!c.disabled);
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let p = check(&input("", "王\u{7}", "12345")).unwrap_err();
        let got: Vec<_> = p.iter().map(|p| (p.field, p.code.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Field::CheckpointName, "required"),
                (Field::ResponsibleName, "control_characters"),
                (Field::ResponsiblePhone, "bad_phone"),
            ]
        );
        let long = "门".repeat(21);
        let p = check(&input(&long, "王五", "0997-4612345")).unwrap_err();
        assert_eq!(p[0].code, "too_long");
    }
}
