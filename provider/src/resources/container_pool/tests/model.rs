//! Pool unit tests: models.

use super::*;

#[test]
fn models_cover_their_schemas() {
    check_round_trip::<PoolModel>(pool_type()).unwrap();
    check_round_trip::<NetworkModel>(&super::super::network_block().value_type()).unwrap();
}

#[test]
fn a_model_missing_an_attribute_fails_the_round_trip() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Partial {
        name: Tf<String>,
    }
    assert!(check_round_trip::<Partial>(pool_type()).is_err());
}

#[test]
fn write_only_passwords_come_from_the_configuration() {
    let mut planned = config();
    let mut cfg = config();
    if let Tf::Known(c) = &mut cfg.container {
        c.registry[0].password_wo = some("secret");
    }
    let m = planned.with_write_only(&cfg);
    assert_eq!(block(&m.container).registry[0].password_wo, some("secret"));
    // The plan itself never carries it.
    assert!(block(&planned.container).registry[0].password_wo.is_none());
    planned.container = Tf::Null;
    assert!(planned.with_write_only(&cfg).container.is_null());
}

#[test]
fn timeouts_parse_go_durations_and_default_to_30_minutes() {
    let mut m = config();
    assert_eq!(m.timeout(Op::Create), DEFAULT_TIMEOUT);
    m.timeouts = k(TimeoutsModel {
        create: ks("1h30m"),
        update: ks("not a duration"),
        delete: Tf::Null,
    });
    assert_eq!(m.timeout(Op::Create).as_secs(), 5400);
    assert_eq!(m.timeout(Op::Update), DEFAULT_TIMEOUT);
    assert_eq!(m.timeout(Op::Delete), DEFAULT_TIMEOUT);
}
