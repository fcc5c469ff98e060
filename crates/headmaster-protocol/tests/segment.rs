//! Segments: what a desktop writes checks out, and each way of breaking one is named.

use headmaster_protocol::chain::{Anchor, ChainRow};
use headmaster_protocol::segment::{write_segment, Segment, SegmentError, SegmentJson};

use crate::support::{chain, checkpoint, device_key, other_key, record, rehash_from, SCOPE};

fn wire(rows: &[ChainRow], cp_key: &ed25519_dalek::SigningKey) -> SegmentJson {
    let last = rows.last().unwrap().event.seq;
    let cp = checkpoint(rows, last, cp_key);
    let with_records: Vec<_> = rows.iter().map(|r| (r.clone(), record(&r.event))).collect();
    let bytes = write_segment(SCOPE, &with_records, &cp).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn check(json: SegmentJson) -> Result<Segment, SegmentError> {
    Segment::check(json, &device_key().verifying_key())
}

#[test]
fn a_written_segment_checks_and_links_only_to_its_predecessor() {
    let rows = chain(30);
    let first = check(wire(&rows[..10], &device_key())).unwrap();
    assert_eq!((first.first_seq(), first.last().0), (1, 10));
    assert!(first.links_to(&Anchor::genesis(SCOPE)));
    assert!(!first.links_to(&Anchor::genesis("other-scope")));
    let second = check(wire(&rows[10..], &device_key())).unwrap();
    assert_eq!(second.classes.len(), 20);
    let held = Anchor {
        seq: 10,
        hash: rows[9].hash,
    };
    assert!(second.links_to(&held));
    assert!(!second.links_to(&Anchor {
        seq: 9,
        hash: rows[8].hash
    }));
    assert!(!second.links_to(&Anchor {
        seq: 10,
        hash: rows[8].hash
    }));
}

#[test]
fn each_inconsistency_is_refused_with_its_code() {
    let rows = chain(12);
    let codes = |json: SegmentJson| check(json).unwrap_err().code();

    assert_eq!(codes(wire(&rows, &other_key())), "segment.bad_signature");

    let mut json = wire(&rows, &device_key());
    json.rows.clear();
    json.events.clear();
    assert_eq!(codes(json), "segment.empty");

    let mut json = wire(&rows, &device_key());
    json.events.pop();
    assert_eq!(codes(json), "segment.event_count");

    let mut json = wire(&rows, &device_key());
    json.rows.remove(4);
    json.events.remove(4);
    assert_eq!(codes(json), "segment.not_contiguous");

    // An edited row with every later hash recomputed still breaks at the checkpoint, and an
    // edited row left alone breaks the chain.
    let mut edited = rows.clone();
    edited[5].event.payload[0] ^= 1;
    let mut json = wire(&edited, &device_key());
    json.checkpoint = wire(&rows, &device_key()).checkpoint;
    assert_eq!(codes(json), "segment.broken_chain");
    let mut rehashed = rows.clone();
    rehashed[5].event.payload[0] ^= 1;
    rehash_from(&mut rehashed, 5);
    let mut json = wire(&rehashed, &device_key());
    json.checkpoint = wire(&rows, &device_key()).checkpoint;
    assert_eq!(codes(json), "segment.checkpoint_mismatch");

    // An OCSF line about another event than its row.
    let mut json = wire(&rows, &device_key());
    json.events.swap(2, 3);
    assert_eq!(codes(json), "segment.event_mismatch");

    // A segment of one scope cannot be filed under another.
    let mut json = wire(&rows, &device_key());
    json.scope = "another-workspace".into();
    assert_eq!(codes(json), "segment.event_mismatch");

    let mut json = wire(&rows, &device_key());
    json.rows[0].hash = "zz".into();
    assert_eq!(codes(json), "segment.malformed");
}

#[test]
fn unknown_fields_are_refused_by_the_wire_form() {
    let rows = chain(2);
    let cp = checkpoint(&rows, 2, &device_key());
    let with_records: Vec<_> = rows.iter().map(|r| (r.clone(), record(&r.event))).collect();
    let bytes = write_segment(SCOPE, &with_records, &cp).unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    value["smuggled"] = serde_json::json!(1);
    assert!(serde_json::from_value::<SegmentJson>(value.clone()).is_err());
    value.as_object_mut().unwrap().remove("smuggled");
    value["rows"][0]["extra"] = serde_json::json!("x");
    assert!(serde_json::from_value::<SegmentJson>(value).is_err());
}
