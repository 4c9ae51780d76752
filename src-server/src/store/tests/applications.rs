//! The store suite's applications scenario (both engines): filing, scope, duplicates, review.

use super::{at, enrol, Store, StoreError, NOW};

/// An application is stored pending and held by its applicant; a second one with the same code
/// and address is refused; lists follow scope and status; a decision is taken once and logged.
pub(super) fn applications_are_filed_scoped_and_decided_once(store: &dyn Store) {
    use crate::store::{Decision, NewAccount, VenueFilter};
    use venuecode_core::application::{check, ApplicationInput};
    use venuecode_core::region::Regions;
    store.seed_demo(at(NOW)).unwrap();
    store
        .create_account(
            &NewAccount {
                account_id: "acc1",
                username: "li.si",
                display_name: "李四",
                role: venuecode_core::accounts::Role::VenueAdmin,
                scopes: &[],
                password_hash: "x",
                created_by: "test",
            },
            at(NOW),
        )
        .unwrap();
    let input = ApplicationInput {
        name: "阿拉尔市幸福路农贸市场管理有限公司".into(),
        credit_code: "91330100716105852F".into(),
        category: "02".into(),
        place_type: "0203".into(),
        region: "659002001001".into(),
        address: "阿拉尔市幸福路 20 号".into(),
        lat_e6: None,
        lon_e6: None,
        responsible_name: "李四".into(),
        responsible_phone: "13900139000".into(),
    };
    let regions = Regions::demo();
    let types = venuecode_core::place_type::PlaceTypes::default_list();
    let a = check(&input, &regions, &types).unwrap();
    let s = store.apply("app-1", &a, "acc1", at(NOW)).unwrap();
    assert_eq!(s.place_type.as_deref(), Some("0203"));
    assert_eq!((s.status.as_str(), s.declaration_code), ("pending", None));
    assert!(matches!(
        store.apply("app-2", &a, "acc1", at(NOW + 1)),
        Err(StoreError::DuplicateApplication(_))
    ));
    assert!(
        store.venue_summary("app-2").unwrap().is_none(),
        "nothing half-stored"
    );
    let other = check(
        &ApplicationInput {
            address: "阿拉尔市幸福路 22 号".into(),
            ..input
        },
        &regions,
        &types,
    )
    .unwrap();
    store.apply("app-3", &other, "acc1", at(NOW + 2)).unwrap();
    let held = store.credentials("li.si").unwrap().unwrap().account.scopes;
    assert_eq!(held, ["app-1", "app-3"]);
    let pending = |prefixes: &[&str]| {
        store
            .venue_summaries(
                &VenueFilter::Regions(prefixes.iter().map(|s| s.to_string()).collect()),
                Some("pending"),
            )
            .unwrap()
            .len()
    };
    assert_eq!(pending(&["659002001"]), 2);
    assert_eq!(pending(&["4409", "659002002"]), 0);
    assert_eq!(
        store
            .venue_summaries(&VenueFilter::Ids(vec!["app-3".into()]), None)
            .unwrap()[0]
            .venue_id,
        "app-3"
    );
    let ok = store
        .decide(
            "app-1",
            &Decision::Approve {
                declaration_code: "200001".into(),
            },
            "rev1",
            at(NOW + 3),
        )
        .unwrap();
    assert_eq!(
        (ok.status.as_str(), ok.declaration_code.as_deref()),
        ("approved", Some("200001"))
    );
    // Approved with a first door: a station enrols with the new declaration code at once.
    let (info, _) = store.venue_info("app-1").unwrap().unwrap();
    assert_eq!(info.checkpoints.len(), 1);
    let d = enrol(store, "dev9", "200001").unwrap();
    assert_eq!(
        (d.venue_id.as_str(), d.checkpoint_id.as_str()),
        ("app-1", "main")
    );
    assert!(matches!(
        store.decide(
            "app-1",
            &Decision::Reject { reason: "x".into() },
            "rev1",
            at(NOW + 4)
        ),
        Err(StoreError::NotPending(_))
    ));
    assert!(matches!(
        store.decide(
            "app-3",
            &Decision::Approve {
                declaration_code: "100001".into()
            },
            "rev1",
            at(NOW + 4)
        ),
        Err(StoreError::DeclarationCodeTaken(_))
    ));
    let no = store
        .decide(
            "app-3",
            &Decision::Reject {
                reason: "名称与营业执照不符".into(),
            },
            "rev1",
            at(NOW + 5),
        )
        .unwrap();
    assert_eq!(no.reject_reason.as_deref(), Some("名称与营业执照不符"));
    // Actors that are accounts are named (display name and user name); others stay as written.
    let history: Vec<(String, String)> = store
        .venue_history("app-3")
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor))
        .collect();
    assert_eq!(
        history,
        [
            ("applied".to_string(), "李四 (li.si)".to_string()),
            ("rejected".to_string(), "rev1".to_string())
        ]
    );
}
