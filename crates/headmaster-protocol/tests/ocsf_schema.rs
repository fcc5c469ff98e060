//! Every action kind, from every kind of actor, with full, partial and erased sources, mapped to
//! OCSF and validated against the schema files in `ocsf/`.

use std::borrow::Cow;

use headmaster_protocol::ocsf::{
    classify, to_ocsf, write_ocsf, Actor, AuditRecord, OcsfError, Source, ERASED, OCSF_VERSION,
};
use serde_json::Value;

use crate::schema::Schema;
use crate::support::{event, record, ACTIONS};

/// The schema file of the class an event claims.
fn class_file(event: &Value) -> &'static str {
    match event["class_uid"].as_u64() {
        Some(3001) => "iam/account_change",
        Some(3002) => "iam/authentication",
        Some(3005) => "iam/user_access",
        Some(3008) => "iam/role_management",
        Some(6003) => "application/api_activity",
        other => panic!("unexpected class_uid {other:?}"),
    }
}

/// Variations of one record: each actor kind and each shape of source.
fn variations(base: &AuditRecord<'static>) -> Vec<AuditRecord<'static>> {
    let mut out = Vec::new();
    for kind in ["user", "agent", "system", "anonymous"] {
        let mut r = base.clone();
        r.actor = Actor {
            kind: kind.into(),
            id: if kind == "anonymous" {
                ""
            } else {
                "0193-actor"
            }
            .into(),
            name: if kind == "anonymous" {
                String::new()
            } else {
                format!("{kind} name")
            }
            .into(),
        };
        out.push(r);
    }
    let mut erased = base.clone();
    erased.actor.name = ERASED.into();
    erased.source = Source {
        client: Some("desktop".into()),
        host: Some(ERASED.into()),
        os_user: Some(ERASED.into()),
        ip: Some(ERASED.into()),
        user_agent: Some(ERASED.into()),
    };
    erased.payload = Cow::Owned(Value::Null);
    out.push(erased);
    let mut bare = base.clone();
    bare.source = Source::default();
    bare.target = "".into();
    bare.ai_agent = None;
    out.push(bare);
    let mut http = base.clone();
    http.source.ip = Some("2001:db8::7".into());
    http.source.user_agent = Some("headmaster-cli/0.1".into());
    http.outcome = "pending".into();
    http.target_name = Some("Quarterly report".into());
    out.push(http);
    out
}

#[test]
fn every_action_kind_validates_against_the_schema() {
    let schema = Schema::load();
    assert_eq!(schema.version(), OCSF_VERSION);
    let mut classes_seen = std::collections::BTreeSet::new();
    for seq in 1..=ACTIONS.len() as u64 {
        for r in variations(&record(&event(seq))) {
            let ocsf = to_ocsf(&r).unwrap();
            let errors = schema.validate(&ocsf, class_file(&ocsf));
            assert!(
                errors.is_empty(),
                "{} as {}: {errors:#?}\n{ocsf:#}",
                r.action,
                r.actor.kind
            );
            assert_eq!(
                ocsf["class_uid"].as_u64().unwrap(),
                u64::from(classify(&r.action).class.uid())
            );
            assert_eq!(ocsf["metadata"]["version"], OCSF_VERSION);
            assert_eq!(ocsf["metadata"]["sequence"], r.seq);
            classes_seen.insert(ocsf["class_uid"].as_u64().unwrap());
        }
    }
    assert_eq!(
        classes_seen.into_iter().collect::<Vec<_>>(),
        vec![3001, 3002, 3005, 3008, 6003]
    );
}

#[test]
fn written_lines_are_the_validated_events() {
    let mut line = b"earlier line\n".to_vec();
    for seq in 1..=ACTIONS.len() as u64 {
        for r in variations(&record(&event(seq))) {
            line.truncate(b"earlier line\n".len());
            let class = write_ocsf(&r, &mut line).unwrap();
            let (earlier, written) = line.split_at(b"earlier line\n".len());
            assert_eq!(earlier, b"earlier line\n", "write_ocsf appends");
            assert!(!written.contains(&b'\n'), "one line per event");
            let parsed: Value = serde_json::from_slice(written).unwrap();
            assert_eq!(
                parsed,
                to_ocsf(&r).unwrap(),
                "{} as {}",
                r.action,
                r.actor.kind
            );
            assert_eq!(class, classify(&r.action).class);
        }
    }
    let mut bad = record(&event(1));
    bad.time = "yesterday".into();
    let mut untouched = Vec::new();
    assert!(write_ocsf(&bad, &mut untouched).is_err());
    assert!(
        untouched.is_empty(),
        "nothing is written for a record that cannot be mapped"
    );
}

#[test]
fn agent_tool_calls_carry_the_ai_agent_profile() {
    let r = record(&event(14));
    assert_eq!(r.action, "tool.executed");
    let ocsf = to_ocsf(&r).unwrap();
    assert_eq!(
        ocsf["metadata"]["profiles"],
        serde_json::json!(["ai_operation"])
    );
    let agent = &ocsf["ai_agent"];
    assert_eq!(agent["uid"], *r.actor.id);
    assert_eq!(agent["instance_uid"], "run-1");
    assert_eq!(agent["name"], "Invoice drafter");
    assert_eq!(
        agent["ai_model"],
        serde_json::json!({ "name": "llama3.1:8b", "ai_provider": "ollama" })
    );
    assert_eq!(ocsf["api"]["operation"], "tool.executed");
    assert_eq!(ocsf["metadata"]["correlation_uid"], "run-1");
}

#[test]
fn fields_map_to_their_ocsf_places() {
    let mut r = record(&event(1));
    r.source.user_agent = Some("Mozilla/5.0".into());
    let ocsf = to_ocsf(&r).unwrap();
    assert_eq!(ocsf["time"], 1_795_784_401_001_i64);
    assert_eq!(
        (ocsf["activity_id"].as_u64(), ocsf["type_uid"].as_u64()),
        (Some(1), Some(300_201))
    );
    assert_eq!(
        (ocsf["status_id"].as_u64(), &ocsf["status"]),
        (Some(1), &Value::from("Success"))
    );
    assert_eq!(ocsf["user"]["uid"], *r.actor.id);
    assert_eq!(ocsf["actor"]["user"]["name"], *r.actor.name);
    assert_eq!(ocsf["src_endpoint"]["hostname"], "finance-laptop");
    assert_eq!(ocsf["src_endpoint"]["ip"], "192.0.2.10");
    assert_eq!(ocsf["src_endpoint"]["owner"]["name"], "alice");
    assert_eq!(ocsf["http_request"]["user_agent"], "Mozilla/5.0");
    assert_eq!(ocsf["unmapped"]["action"], "auth.sign_in");
}

#[test]
fn a_denied_access_is_a_medium_severity_failure() {
    let r = record(&event(25));
    assert_eq!(r.action, "access.denied");
    let ocsf = to_ocsf(&r).unwrap();
    assert_eq!(
        (ocsf["status_id"].as_u64(), ocsf["severity_id"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(
        (ocsf["activity_id"].as_u64(), &ocsf["activity_name"]),
        (Some(99), &Value::from("access.denied"))
    );
}

#[test]
fn a_malformed_time_is_an_error() {
    let mut r = record(&event(1));
    r.time = "yesterday".into();
    assert_eq!(
        to_ocsf(&r),
        Err(OcsfError::BadTime {
            seq: 1,
            time: "yesterday".into()
        })
    );
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let schema = Schema::load();
    let good = to_ocsf(&record(&event(14))).unwrap();
    type Breakage = Box<dyn Fn(&mut Value)>;
    let breakages: Vec<(&str, Breakage)> = vec![
        (
            "required attribute",
            Box::new(|e| {
                e["api"].as_object_mut().unwrap().remove("operation");
            }),
        ),
        ("type_uid", Box::new(|e| e["type_uid"] = 600_302.into())),
        ("enum", Box::new(|e| e["severity_id"] = 42.into())),
        (
            "unknown attribute",
            Box::new(|e| e["actor"]["nickname"] = "x".into()),
        ),
        (
            "profile not listed",
            Box::new(|e| {
                e["metadata"].as_object_mut().unwrap().remove("profiles");
            }),
        ),
        (
            "ip type",
            Box::new(|e| e["src_endpoint"]["ip"] = "not-an-ip".into()),
        ),
        (
            "caption sibling",
            Box::new(|e| e["status"] = "Failure".into()),
        ),
        (
            "constraint",
            Box::new(|e| e["actor"] = serde_json::json!({})),
        ),
    ];
    assert!(schema
        .validate(&good, "application/api_activity")
        .is_empty());
    for (what, breakage) in breakages {
        let mut bad = good.clone();
        breakage(&mut bad);
        assert!(
            !schema.validate(&bad, "application/api_activity").is_empty(),
            "{what} not caught"
        );
    }
}
