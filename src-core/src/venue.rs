//! Venue taxonomy: the categories of places that run a gate, with stable codes and names in
//! zh-CN and English (from the notices in shared/seeds).
//!
//! Invariant: a category's `code` never changes once published; codes are stored on the server
//! and printed on posters.

use serde::{Deserialize, Serialize};

/// A venue category. The serialised form is the stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueCategory {
    /// 党政机关和公共服务场所: government offices, hospitals, schools, service halls.
    GovernmentPublicService,
    /// 商业场所: shops, markets, restaurants, hotels.
    Business,
    /// 人员密集场所和交通场站: crowded places and transport hubs.
    CrowdedTransport,
    /// 企业、工地和居住小区: enterprises, building sites, residential compounds.
    EnterpriseSiteResidence,
    /// 冷链和物流: cold chain and logistics.
    ColdChainLogistics,
    /// 大型活动: events and gatherings.
    Event,
    /// 其他: anything else.
    Other,
}

impl VenueCategory {
    /// Every category, in display order.
    pub const ALL: [VenueCategory; 7] = [
        VenueCategory::GovernmentPublicService,
        VenueCategory::Business,
        VenueCategory::CrowdedTransport,
        VenueCategory::EnterpriseSiteResidence,
        VenueCategory::ColdChainLogistics,
        VenueCategory::Event,
        VenueCategory::Other,
    ];

    /// The stable code stored and printed (two digits, as on the seeds' forms).
    pub fn code(self) -> &'static str {
        match self {
            VenueCategory::GovernmentPublicService => "01",
            VenueCategory::Business => "02",
            VenueCategory::CrowdedTransport => "03",
            VenueCategory::EnterpriseSiteResidence => "04",
            VenueCategory::ColdChainLogistics => "05",
            VenueCategory::Event => "06",
            VenueCategory::Other => "99",
        }
    }

    /// Looks a category up by its stable code.
    pub fn from_code(code: &str) -> Option<VenueCategory> {
        VenueCategory::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The zh-CN name.
    pub fn name_zh(self) -> &'static str {
        match self {
            VenueCategory::GovernmentPublicService => "党政机关和公共服务场所",
            VenueCategory::Business => "商业场所",
            VenueCategory::CrowdedTransport => "人员密集场所和交通场站",
            VenueCategory::EnterpriseSiteResidence => "企业、工地和居住小区",
            VenueCategory::ColdChainLogistics => "冷链和物流",
            VenueCategory::Event => "大型活动",
            VenueCategory::Other => "其他",
        }
    }

    /// The English name.
    pub fn name_en(self) -> &'static str {
        match self {
            VenueCategory::GovernmentPublicService => "Government and public service",
            VenueCategory::Business => "Business",
            VenueCategory::CrowdedTransport => "Crowded places and transport",
            VenueCategory::EnterpriseSiteResidence => "Enterprises, sites and residences",
            VenueCategory::ColdChainLogistics => "Cold chain and logistics",
            VenueCategory::Event => "Events",
            VenueCategory::Other => "Other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut codes: Vec<_> = VenueCategory::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), VenueCategory::ALL.len());
        for c in VenueCategory::ALL {
            assert_eq!(VenueCategory::from_code(c.code()), Some(c));
            assert!(!c.name_zh().is_empty() && !c.name_en().is_empty());
        }
        assert_eq!(VenueCategory::from_code("07"), None);
    }
}
