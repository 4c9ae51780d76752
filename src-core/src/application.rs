//! A venue application (场所申请): what an applicant fills in, checked field by field so the form
//! can say, next to each field, what is wrong — in both languages through the UI's catalogue
//! (each problem has a stable code).
//!
//! Invariants: pure; [`check`] reports every problem at once (not the first only); a checked
//! application holds trimmed text without control characters, a valid 统一社会信用代码, a known
//! category, a place type of the deployment's list under that category, a community in the
//! region table, an optional point on the globe, and a mobile or landline number.

use serde::{Deserialize, Serialize};

use crate::credit_code::CreditCode;
use crate::place_type::PlaceTypes;
use crate::region::Regions;
use crate::sightings::GeoPoint;
use crate::venue::VenueCategory;

/// What an applicant sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationInput {
    /// The full registered name, as on the unit's licence (not an abbreviation).
    pub name: String,
    pub credit_code: String,
    /// Category code (01–06, 99).
    pub category: String,
    /// Place type code from the deployment's table (four digits, the category's two first).
    #[serde(default)]
    pub place_type: String,
    /// The community's region code.
    pub region: String,
    pub address: String,
    /// Map point in millionths of a degree, if given.
    #[serde(default)]
    pub lat_e6: Option<i32>,
    #[serde(default)]
    pub lon_e6: Option<i32>,
    pub responsible_name: String,
    pub responsible_phone: String,
}

/// A field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    CreditCode,
    Category,
    PlaceType,
    Region,
    Address,
    Point,
    ResponsibleName,
    ResponsiblePhone,
    /// A checkpoint's name (检测点: 南门, 北门 …).
    CheckpointName,
}

/// One problem with one field: a stable code (for the catalogue) and an English message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: Field,
    pub code: String,
    pub message: String,
}

/// A checked application.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub name: String,
    pub credit_code: CreditCode,
    pub category: VenueCategory,
    /// The place type's code (in the deployment's table, under `category`).
    pub place_type: String,
    pub region: String,
    pub address: String,
    pub point: Option<GeoPoint>,
    pub responsible_name: String,
    pub responsible_phone: String,
}

pub(crate) fn text(
    problems: &mut Vec<Problem>,
    field: Field,
    value: &str,
    (min, max): (usize, usize),
) -> String {
    let v = value.trim();
    let n = v.chars().count();
    if v.chars().any(char::is_control) {
        problems.push(Problem {
            field,
            code: "control_characters".into(),
            message: "contains control characters".into(),
        });
    } else if n < min {
        problems.push(Problem {
            field,
            code: if n == 0 { "required" } else { "too_short" }.into(),
            message: format!("needs at least {min} characters"),
        });
    } else if n > max {
        problems.push(Problem {
            field,
            code: "too_long".into(),
            message: format!("at most {max} characters"),
        });
    }
    v.to_string()
}

/// Whether `phone` is a mainland mobile number (11 digits, 1[3-9]…) or a landline with its area
/// code (0 + 2–3 digits, an optional '-', 7–8 digits).
pub fn is_phone(phone: &str) -> bool {
    let b = phone.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && digits(b) {
        return true;
    }
    let (area, number) = match phone.split_once('-') {
        Some((a, n)) => (a.as_bytes(), n.as_bytes()),
        None if b.len() >= 10 && b.len() <= 12 => (&b[..4.min(b.len())], &b[4.min(b.len())..]),
        None => return false,
    };
    area.first() == Some(&b'0')
        && (3..=4).contains(&area.len())
        && (7..=8).contains(&number.len())
        && digits(area)
        && digits(number)
}

/// Checks an application against the region table and the deployment's place types; every
/// problem at once.
pub fn check(
    input: &ApplicationInput,
    regions: &Regions,
    types: &PlaceTypes,
) -> Result<Application, Vec<Problem>> {
    let mut p = Vec::new();
    let name = text(&mut p, Field::Name, &input.name, (2, 60));
    let credit = CreditCode::parse(input.credit_code.trim());
    if let Err(e) = &credit {
        p.push(Problem {
            field: Field::CreditCode,
            code: e.code().into(),
            message: e.to_string(),
        });
    }
    let category = VenueCategory::from_code(input.category.trim());
    if category.is_none() {
        p.push(Problem {
            field: Field::Category,
            code: "unknown_category".into(),
            message: "choose a category from the list".into(),
        });
    }
    let place_type = input.place_type.trim().to_string();
    match (types.get(&place_type), category) {
        _ if place_type.is_empty() => p.push(Problem {
            field: Field::PlaceType,
            code: "required".into(),
            message: "choose the place type from the list".into(),
        }),
        (None, _) => p.push(Problem {
            field: Field::PlaceType,
            code: "unknown_place_type".into(),
            message: "choose the place type from the deployment's list".into(),
        }),
        (Some(t), Some(c)) if t.category != c => p.push(Problem {
            field: Field::PlaceType,
            code: "place_type_category".into(),
            message: format!("place type {place_type} is not under category {}", c.code()),
        }),
        _ => {}
    }
    let region = input.region.trim().to_string();
    if !regions.is_leaf(&region) {
        p.push(Problem {
            field: Field::Region,
            code: "unknown_region".into(),
            message: "choose the community (社区) from the region list".into(),
        });
    }
    let address = text(&mut p, Field::Address, &input.address, (4, 120));
    let point = match (input.lat_e6, input.lon_e6) {
        (None, None) => None,
        (Some(lat), Some(lon)) => {
            let g = GeoPoint::new(lat, lon);
            if g.is_none() {
                p.push(Problem {
                    field: Field::Point,
                    code: "bad_point".into(),
                    message: "the map point is not on the globe".into(),
                });
            }
            g
        }
        _ => {
            p.push(Problem {
                field: Field::Point,
                code: "bad_point".into(),
                message: "give both latitude and longitude, or neither".into(),
            });
            None
        }
    };
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
    match (credit, category) {
        (Ok(credit_code), Some(category)) if p.is_empty() => Ok(Application {
            name,
            credit_code,
            category,
            place_type,
            region,
            address,
            point,
            responsible_name,
            responsible_phone: phone,
        }),
        _ => Err(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ApplicationInput {
        ApplicationInput {
            name: "阿拉尔市幸福路农贸市场管理有限公司".into(),
            credit_code: "91330100716105852F".into(),
            category: "02".into(),
            place_type: "0203".into(),
            region: "659002001001".into(),
            address: "阿拉尔市幸福路 18 号".into(),
            lat_e6: Some(40_556_000),
            lon_e6: Some(81_266_000),
            responsible_name: "李四".into(),
            responsible_phone: "13900139000".into(),
        }
    }

    #[test]
    fn a_good_application_passes_and_every_bad_field_is_named() {
        let regions = Regions::demo();
        let types = PlaceTypes::default_list();
        let a = check(&good(), &regions, &types).unwrap();
        assert_eq!(a.place_type, "0203");
        assert_eq!(a.category, VenueCategory::Business);
        assert_eq!(a.credit_code.as_str(), "91330100716105852F");
        let bad = ApplicationInput {
            name: " ".into(),
            credit_code: "91330100716105852A".into(),
            category: "77".into(),
            place_type: "0299".into(),
            region: "659002".into(),
            address: "路\u{7}".into(),
            lat_e6: Some(1),
            lon_e6: None,
            responsible_name: "李".into(),
            responsible_phone: "12345".into(),
        };
        let problems = check(&bad, &regions, &types).unwrap_err();
        let fields: Vec<(Field, &str)> = problems
            .iter()
            .map(|p| (p.field, p.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (Field::Name, "required"),
                (Field::CreditCode, "credit_code_check"),
                (Field::Category, "unknown_category"),
                (Field::PlaceType, "unknown_place_type"),
                (Field::Region, "unknown_region"),
                (Field::Address, "control_characters"),
                (Field::Point, "bad_point"),
                (Field::ResponsibleName, "too_short"),
                (Field::ResponsiblePhone, "bad_phone"),
            ]
        );
        assert!(check(
            &ApplicationInput {
                name: "场".repeat(61),
                ..good()
            },
            &regions,
            &types
        )
        .is_err());
        // A type from another category, and none at all, are named on the type.
        let on_type = |place_type: &str| {
            let e = check(
                &ApplicationInput {
                    place_type: place_type.into(),
                    ..good()
                },
                &regions,
                &types,
            )
            .unwrap_err();
            assert_eq!(e.len(), 1, "{e:?}");
            assert_eq!(e[0].field, Field::PlaceType);
            e[0].code.clone()
        };
        assert_eq!(on_type("0101"), "place_type_category");
        assert_eq!(on_type(" "), "required");
    }

    #[test]
    fn phones() {
        for ok in ["13800138000", "0997-4612345", "020-12345678", "09974612345"] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in [
            "12800138000",
            "1380013800",
            "997-4612345",
            "0997-46123",
            "",
            "０997-4612345",
        ] {
            assert!(!is_phone(bad), "{bad}");
        }
    }
}
