//! People who sign in (not stations): their roles, what each role may see and change, and the
//! rules for passwords, failed sign-ins and sessions.
//!
//! Roles (from the seeds): the venue administrator (场所管理员) manages the venues they hold; the
//! community reviewer (社区审核员) reviews applications in the communities they serve; the health
//! authority (疾控/流调) reads alerts and traces within its region; the system administrator
//! invites people and assigns roles. Scopes are region-code prefixes (a community's code starts
//! with its district's) or venue ids.
//!
//! Invariants: pure; every permission question goes through [`Principal::may`], and a principal
//! with no matching scope may do nothing beyond reading their own account; a password is judged
//! here (length, not the username) but hashed at the edge; the lockout and the session lifetime are
//! functions of times passed in.

use chrono::{DateTime, Duration, Utc};

/// Failed sign-ins in a row after which an account is locked for [`LOCKOUT`].
pub const MAX_FAILED_SIGN_INS: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// How long a session lasts (a working day): sign in again after.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);
/// Password length bounds (characters).
pub const PASSWORD_CHARS: (usize, usize) = (10, 128);

/// A person's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 场所管理员: their venues (scope: venue ids).
    VenueAdmin,
    /// 社区审核员: applications in their communities (scope: region prefixes).
    Reviewer,
    /// 疾控/流调: alerts and tracing in their region (scope: region prefixes).
    Authority,
    /// 系统管理员: accounts and roles (no scope needed).
    SysAdmin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::VenueAdmin,
        Role::Reviewer,
        Role::Authority,
        Role::SysAdmin,
    ];

    /// The stable code stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::VenueAdmin => "venue_admin",
            Role::Reviewer => "reviewer",
            Role::Authority => "authority",
            Role::SysAdmin => "sysadmin",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The zh-CN name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::VenueAdmin => "场所管理员",
            Role::Reviewer => "社区审核员",
            Role::Authority => "疾控/流调",
            Role::SysAdmin => "系统管理员",
        }
    }

    /// Whether this role's scopes are region prefixes (else venue ids, or none).
    pub fn scoped_by_region(self) -> bool {
        matches!(self, Role::Reviewer | Role::Authority)
    }
}

/// Something a person may ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// List, invite, disable accounts; assign roles.
    ManageAccounts,
    /// Read a venue's registry entry, policy and devices.
    ReadVenue { venue_id: &'a str, region: &'a str },
    /// Change a venue (checkpoints, declaration code, policy, members).
    ManageVenue { venue_id: &'a str, region: &'a str },
    /// Approve or reject applications in a region.
    Review { region: &'a str },
    /// Read alerts and trace people in a region.
    Trace { region: &'a str },
    /// Read a venue's check-ins and statistics: its administrator, or an authority over its
    /// region (a reviewer decides applications and never sees who came in).
    ReadCheckIns { venue_id: &'a str, region: &'a str },
}

/// A signed-in person: who, in which role, over which scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    pub role: Role,
    /// Region prefixes (reviewer, authority) or venue ids (venue administrator).
    pub scopes: Vec<String>,
}

impl Principal {
    fn covers_region(&self, region: &str) -> bool {
        self.role.scoped_by_region()
            && self
                .scopes
                .iter()
                .any(|s| !s.is_empty() && region.starts_with(s.as_str()))
    }

    fn holds_venue(&self, venue_id: &str) -> bool {
        self.role == Role::VenueAdmin && self.scopes.iter().any(|v| v == venue_id)
    }

    /// Whether this person may do `action`.
    pub fn may(&self, action: Action<'_>) -> bool {
        match action {
            Action::ManageAccounts => self.role == Role::SysAdmin,
            Action::ReadVenue { venue_id, region } => {
                self.holds_venue(venue_id) || self.covers_region(region)
            }
            Action::ManageVenue { venue_id, .. } => self.holds_venue(venue_id),
            Action::Review { region } => self.role == Role::Reviewer && self.covers_region(region),
            Action::Trace { region } => self.role == Role::Authority && self.covers_region(region),
            Action::ReadCheckIns { venue_id, region } => {
                self.holds_venue(venue_id)
                    || (self.role == Role::Authority && self.covers_region(region))
            }
        }
    }
}

/// Why a password is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be {min} to {max} characters", min = PASSWORD_CHARS.0, max = PASSWORD_CHARS.1)]
    Length,
    #[error("the password must not be the user name")]
    SameAsUsername,
    #[error("the password must not be one character repeated or only digits")]
    TooSimple,
}

/// Judges a new password for `username`.
pub fn check_password(username: &str, password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if !(PASSWORD_CHARS.0..=PASSWORD_CHARS.1).contains(&n) {
        return Err(PasswordError::Length);
    }
    if password.trim().eq_ignore_ascii_case(username.trim()) {
        return Err(PasswordError::SameAsUsername);
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) || password.chars().all(|c| c.is_ascii_digit()) {
        return Err(PasswordError::TooSimple);
    }
    Ok(())
}

/// Why a user name is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a user name is 3 to 32 letters, digits, '.', '_' or '-'")]
pub struct UsernameError;

/// Judges a user name: 3–32 ASCII letters, digits, `.`, `_`, `-` (typed at a desk, on any
/// keyboard).
pub fn check_username(username: &str) -> Result<(), UsernameError> {
    let ok = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(()).ok_or(UsernameError)
}

/// Whether an account with `failed` sign-ins in a row, the last at `last_failed`, is locked at
/// `now`.
pub fn locked(failed: i64, last_failed: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    failed >= MAX_FAILED_SIGN_INS && last_failed.is_some_and(|t| now - t < LOCKOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: Role, scopes: &[&str]) -> Principal {
        Principal {
            account_id: "a1".into(),
            role,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn each_role_reaches_only_its_scope() {
        let hospital = Action::ReadVenue {
            venue_id: "v1",
            region: "659002001001",
        };
        let elsewhere = Action::ReadVenue {
            venue_id: "v2",
            region: "440500001001",
        };
        let admin = p(Role::VenueAdmin, &["v1"]);
        assert!(admin.may(hospital) && !admin.may(elsewhere));
        assert!(admin.may(Action::ManageVenue {
            venue_id: "v1",
            region: "659002001001"
        }));
        assert!(!admin.may(Action::Review {
            region: "659002001001"
        }));
        let reviewer = p(Role::Reviewer, &["659002001"]);
        assert!(reviewer.may(hospital) && !reviewer.may(elsewhere));
        assert!(reviewer.may(Action::Review {
            region: "659002001001"
        }));
        assert!(!reviewer.may(Action::Review {
            region: "659002002001"
        }));
        assert!(!reviewer.may(Action::ManageVenue {
            venue_id: "v1",
            region: "659002001001"
        }));
        assert!(!reviewer.may(Action::Trace {
            region: "659002001001"
        }));
        let authority = p(Role::Authority, &["659002"]);
        assert!(authority.may(Action::Trace {
            region: "659002001001"
        }));
        assert!(!authority.may(Action::Trace { region: "440500" }));
        assert!(!authority.may(Action::ManageAccounts));
        let sys = p(Role::SysAdmin, &[]);
        assert!(sys.may(Action::ManageAccounts) && !sys.may(hospital));
        // An empty scope covers nothing (not every region).
        assert!(!p(Role::Authority, &[""]).may(Action::Trace { region: "659002" }));
        // Check-ins: the venue's administrator and an authority over the region; never a
        // reviewer, another venue's administrator, an authority elsewhere, or the system admin.
        let check_ins = Action::ReadCheckIns {
            venue_id: "v1",
            region: "659002001001",
        };
        assert!(admin.may(check_ins) && authority.may(check_ins));
        assert!(!reviewer.may(check_ins) && !sys.may(check_ins));
        assert!(!p(Role::VenueAdmin, &["v2"]).may(check_ins));
        assert!(!p(Role::Authority, &["4405"]).may(check_ins));
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.as_str()), Some(r));
        }
    }

    #[test]
    fn passwords_user_names_and_lockout() {
        assert_eq!(check_password("wang", "short"), Err(PasswordError::Length));
        assert_eq!(
            check_password("wangwu.admin", "WangWu.Admin"),
            Err(PasswordError::SameAsUsername)
        );
        assert_eq!(
            check_password("wang", "1234567890"),
            Err(PasswordError::TooSimple)
        );
        assert_eq!(
            check_password("wang", "aaaaaaaaaaaa"),
            Err(PasswordError::TooSimple)
        );
        check_password("wang", "阿拉尔 gate 2026").unwrap();
        check_username("wang.wu-01").unwrap();
        assert!(check_username("王五").is_err() && check_username("ab").is_err());
        let t = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        assert!(!locked(4, Some(t), t));
        assert!(locked(5, Some(t), t + Duration::minutes(14)));
        assert!(!locked(5, Some(t), t + Duration::minutes(15)));
    }
}
