//! Deployment rules: what differs between regions' systems is a setting, not code. 粤康码 lets an
//! administrator create one venue and a venue have one administrator, reviewed by the community;
//! 一师健康行 adds several administrators by name. Review may be required or not.
//!
//! Invariants: pure; every check answers with the rule that refused and its limit.

/// A deployment's rules for venues and their administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeploymentRules {
    /// Applications wait for a community reviewer; otherwise they are approved at once.
    pub review_required: bool,
    /// At most this many administrators per venue (`None`: any number).
    pub admins_per_venue: Option<u32>,
    /// An administrator holds at most this many venues (`None`: any number).
    pub venues_per_admin: Option<u32>,
}

impl Default for DeploymentRules {
    /// Reviewed, with any number of administrators and venues (one organisation, many venues).
    fn default() -> Self {
        DeploymentRules {
            review_required: true,
            admins_per_venue: None,
            venues_per_admin: None,
        }
    }
}

/// Why a rule refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("this deployment lets an administrator hold at most {0} venue(s)")]
    VenuesPerAdmin(u32),
    #[error("this deployment lets a venue have at most {0} administrator(s): hand the role over instead")]
    AdminsPerVenue(u32),
}

impl RuleError {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            RuleError::VenuesPerAdmin(_) => "venues_per_admin",
            RuleError::AdminsPerVenue(_) => "admins_per_venue",
        }
    }
}

impl DeploymentRules {
    /// The 粤康码 rules: reviewed, one administrator per venue, one venue per administrator.
    pub fn one_to_one() -> Self {
        DeploymentRules {
            review_required: true,
            admins_per_venue: Some(1),
            venues_per_admin: Some(1),
        }
    }

    /// May an administrator holding `held` venues take one more (apply, or be handed one)?
    pub fn check_take_venue(&self, held: usize) -> Result<(), RuleError> {
        match self.venues_per_admin {
            Some(max) if held >= max as usize => Err(RuleError::VenuesPerAdmin(max)),
            _ => Ok(()),
        }
    }

    /// May a venue with `admins` administrators get one more?
    pub fn check_add_admin(&self, admins: usize) -> Result<(), RuleError> {
        match self.admins_per_venue {
            Some(max) if admins >= max as usize => Err(RuleError::AdminsPerVenue(max)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_allows_many_and_one_to_one_allows_one() {
        let d = DeploymentRules::default();
        assert!(d.check_take_venue(50).is_ok() && d.check_add_admin(9).is_ok());
        let y = DeploymentRules::one_to_one();
        assert!(y.check_take_venue(0).is_ok());
        assert_eq!(y.check_take_venue(1), Err(RuleError::VenuesPerAdmin(1)));
        assert!(y.check_add_admin(0).is_ok());
        assert_eq!(y.check_add_admin(1).unwrap_err().code(), "admins_per_venue");
    }
}
