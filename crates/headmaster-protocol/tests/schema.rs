//! A small OCSF validator driven by the schema files in the crate's `ocsf/` folder.
//!
//! It resolves a class the way the schema compiler does (the `extends` chain down from
//! `base_event`, `$include`d profiles, attribute entries merged field by field, enums united
//! with the dictionary's) and then checks an event at every level it contains: no attribute the
//! schema does not define, profile attributes only when the profile is listed in
//! `metadata.profiles`, every `required` attribute present, `at_least_one`/`just_one`
//! constraints, value kinds from the dictionary types, enum ids and their caption siblings, and
//! the class/type arithmetic.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// The resolved definition of one attribute in one class or object.
/// One field of an event under check: its name, what the schema says of it, and its value.
#[derive(Clone, Copy)]
struct Field<'a> {
    name: &'a str,
    attr: &'a Attr,
    value: &'a Value,
}

#[derive(Debug, Clone, Default)]
struct Attr {
    requirement: Option<String>,
    profile: Option<String>,
    enum_captions: BTreeMap<String, String>,
}

/// A resolved class or object: its attributes and constraints.
#[derive(Debug, Default)]
struct Shape {
    attrs: BTreeMap<String, Attr>,
    constraints: Vec<(String, Vec<String>)>,
    category: Option<String>,
    uid: Option<i64>,
}

pub struct Schema {
    root: PathBuf,
    dictionary: Map<String, Value>,
    types: Map<String, Value>,
    categories: Map<String, Value>,
}

impl Schema {
    pub fn load() -> Self {
        Self::load_from(
            &std::path::PathBuf::from(
                std::env::var_os("CARGO_MANIFEST_DIR")
                    .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
            )
            .join("ocsf"),
        )
    }

    /// Loads the schema files from `root` (other crates' tests point it at this crate's `ocsf/`).
    pub fn load_from(root: &Path) -> Self {
        let root = root.to_path_buf();
        let dictionary = read(&root.join("dictionary.json"));
        let categories = read(&root.join("categories.json"));
        Self {
            dictionary: dictionary["attributes"].as_object().unwrap().clone(),
            types: dictionary["types"]["attributes"]
                .as_object()
                .unwrap()
                .clone(),
            categories: categories["attributes"].as_object().unwrap().clone(),
            root,
        }
    }

    pub fn version(&self) -> String {
        read(&self.root.join("version.json"))["version"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Validates one event, returning every violation found (empty when valid).
    pub fn validate(&self, event: &Value, class_file: &str) -> Vec<String> {
        let mut errors = Vec::new();
        let class = self.resolve(&format!("events/{class_file}.json"), "events");
        let profiles: BTreeSet<String> = event["metadata"]["profiles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let category = class.category.clone().expect("a class has a category");
        let category_uid = self.categories[&category]["uid"].as_i64().unwrap();
        let class_uid = category_uid * 1000 + class.uid.expect("a class has a uid");
        let int = |k: &str| event[k].as_i64();
        check(
            &mut errors,
            int("category_uid") == Some(category_uid),
            || format!("category_uid {:?} != {category_uid}", event["category_uid"]),
        );
        check(&mut errors, int("class_uid") == Some(class_uid), || {
            format!("class_uid {:?} != {class_uid}", event["class_uid"])
        });
        let type_uid = int("activity_id").map(|a| class_uid * 100 + a);
        check(&mut errors, int("type_uid") == type_uid, || {
            format!(
                "type_uid {:?} != class_uid * 100 + activity_id",
                event["type_uid"]
            )
        });
        self.check_object(event, &class, &profiles, "", &mut errors);
        errors
    }

    fn check_object(
        &self,
        value: &Value,
        shape: &Shape,
        profiles: &BTreeSet<String>,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(fields) = value.as_object() else {
            errors.push(format!("{path}: expected an object"));
            return;
        };
        for (name, attr) in &shape.attrs {
            let active = attr.profile.as_ref().is_none_or(|p| profiles.contains(p));
            if active
                && attr.requirement.as_deref() == Some("required")
                && !fields.contains_key(name)
            {
                errors.push(format!("{path}.{name}: required attribute missing"));
            }
        }
        for (kind, names) in &shape.constraints {
            let present = names.iter().filter(|n| fields.contains_key(*n)).count();
            let ok = match kind.as_str() {
                "at_least_one" => present >= 1,
                "just_one" => present == 1,
                _ => true,
            };
            check(errors, ok, || {
                format!("{path}: constraint {kind} {names:?} violated")
            });
        }
        for (name, child) in fields {
            let here = format!("{path}.{name}");
            let Some(attr) = shape.attrs.get(name) else {
                errors.push(format!("{here}: not an attribute of this class/object"));
                continue;
            };
            if let Some(p) = attr.profile.as_ref().filter(|p| !profiles.contains(*p)) {
                errors.push(format!(
                    "{here}: belongs to profile {p}, which metadata.profiles does not list"
                ));
            }
            self.check_value(
                Field {
                    name,
                    attr,
                    value: child,
                },
                fields,
                profiles,
                &here,
                errors,
            );
        }
    }

    fn check_value(
        &self,
        field: Field<'_>,
        siblings: &Map<String, Value>,
        profiles: &BTreeSet<String>,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let Field { name, attr, value } = field;
        let dict = &self.dictionary[name];
        let type_name = dict["type"].as_str().unwrap_or("string_t");
        let items: Vec<&Value> = if dict["is_array"].as_bool() == Some(true) {
            match value.as_array() {
                Some(items) => items.iter().collect(),
                None => return errors.push(format!("{path}: expected an array")),
            }
        } else {
            vec![value]
        };
        let mut enums = attr.enum_captions.clone();
        if let Some(e) = dict["enum"].as_object() {
            for (k, v) in e {
                enums
                    .entry(k.clone())
                    .or_insert_with(|| v["caption"].as_str().unwrap_or_default().to_owned());
            }
        }
        for item in items {
            if self.types.contains_key(type_name) || type_name == "object" {
                self.check_primitive(type_name, item, path, errors);
            } else {
                let shape = self.resolve(&format!("objects/{type_name}.json"), "objects");
                self.check_object(item, &shape, profiles, path, errors);
            }
            // The base event's enums for these two list only 0; a class fixes them, and the
            // arithmetic in `validate` checks them.
            if enums.is_empty() || path == ".class_uid" || path == ".category_uid" {
                continue;
            }
            let key = match item {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let Some(caption) = enums.get(&key) else {
                errors.push(format!("{path}: {key} is not one of {:?}", enums.keys()));
                continue;
            };
            let Some(id) = item.as_i64() else { continue };
            if let Some(sibling) = dict["sibling"].as_str() {
                let label = siblings.get(sibling).and_then(Value::as_str);
                if id == 99 {
                    check(errors, label.is_some_and(|l| !l.is_empty()), || {
                        format!("{path}: 99 (Other) needs {sibling}")
                    });
                } else if let Some(label) = label {
                    check(errors, label == caption, || {
                        format!(
                            "{path}: {sibling} {label:?} is not the caption {caption:?} of {id}"
                        )
                    });
                }
            }
        }
    }

    fn check_primitive(
        &self,
        type_name: &str,
        value: &Value,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let base = match type_name {
            "object" | "json_t" => return,
            t => self.types[t]["type"]
                .as_str()
                .map(|b| {
                    self.types
                        .get(b)
                        .and_then(|x| x["type"].as_str())
                        .unwrap_or(b)
                })
                .unwrap_or(t),
        };
        let ok = match base {
            "string_t" => value.is_string(),
            "integer_t" | "long_t" => value.is_i64() || value.is_u64(),
            "float_t" => value.is_number(),
            "boolean_t" => value.is_boolean(),
            _ => true,
        };
        check(errors, ok, || {
            format!("{path}: {value} is not a {type_name}")
        });
        if type_name == "ip_t" {
            let parsed = value.as_str().map(str::parse::<IpAddr>);
            check(errors, matches!(parsed, Some(Ok(_))), || {
                format!("{path}: {value} is not an IP address")
            });
        }
    }

    /// Resolves a class or object file through its `extends` chain and includes.
    fn resolve(&self, rel: &str, kind: &str) -> Shape {
        let file = read(&self.root.join(rel));
        let mut shape = match file["extends"].as_str() {
            Some(parent) => self.resolve(&self.find(parent, kind), kind),
            None => Shape::default(),
        };
        if let Some(c) = file["category"].as_str() {
            shape.category = Some(c.to_owned());
        }
        shape.uid = file["uid"].as_i64().or(shape.uid);
        let attrs = file["attributes"].as_object().cloned().unwrap_or_default();
        for include in attrs
            .get("$include")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let profile = read(&self.root.join(include.as_str().unwrap()));
            let name = profile["name"].as_str().unwrap().to_owned();
            for (attr, def) in profile["attributes"].as_object().unwrap() {
                let entry = shape.attrs.entry(attr.clone()).or_default();
                merge(entry, def);
                entry.profile = Some(name.clone());
            }
        }
        for (attr, def) in attrs.iter().filter(|(k, _)| *k != "$include") {
            let entry = shape.attrs.entry(attr.clone()).or_default();
            merge(entry, def);
            match def.get("profile") {
                Some(Value::Null) => entry.profile = None,
                Some(Value::String(p)) => entry.profile = Some(p.clone()),
                _ => {}
            }
        }
        // A child's constraints replace its parent's (an endpoint may be named by its hostname,
        // where a bare entity needs a name or uid).
        if file["constraints"].is_object() {
            shape.constraints.clear();
        }
        for (kind, names) in file["constraints"].as_object().into_iter().flatten() {
            let names = names
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect();
            shape.constraints.push((kind.clone(), names));
        }
        shape
    }

    /// The file of a parent class or object named `name`.
    fn find(&self, name: &str, kind: &str) -> String {
        let candidates = match kind {
            "events" => vec![
                format!("events/{name}.json"),
                format!("events/{name}/{name}.json"),
            ],
            _ => vec![format!("objects/{name}.json")],
        };
        candidates
            .into_iter()
            .find(|c| self.root.join(c).exists())
            .unwrap_or_else(|| {
                panic!("schema file for {name} is not in ocsf/: copy it from the schema")
            })
    }
}

fn merge(entry: &mut Attr, def: &Value) {
    if let Some(r) = def["requirement"].as_str() {
        entry.requirement = Some(r.to_owned());
    }
    for (k, v) in def["enum"].as_object().into_iter().flatten() {
        entry.enum_captions.insert(
            k.clone(),
            v["caption"].as_str().unwrap_or_default().to_owned(),
        );
    }
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{} is missing from ocsf/ ({e}): copy it from the schema",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn check(errors: &mut Vec<String>, ok: bool, message: impl FnOnce() -> String) {
    if !ok {
        errors.push(message());
    }
}
