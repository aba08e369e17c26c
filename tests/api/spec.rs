use std::collections::BTreeSet;

use serde_yaml::Value;

fn spec() -> Value {
    serde_yaml::from_str(zhuqi::routes::service::OPENAPI_YAML).expect("the spec is valid YAML")
}

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

#[test]
fn the_spec_and_the_router_name_the_same_routes() {
    let spec = spec();
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for method in METHODS {
            if item.get(*method).is_some() {
                documented.insert(format!(
                    "{} {}",
                    method.to_uppercase(),
                    path.as_str().unwrap_or("")
                ));
            }
        }
    }
    let served: BTreeSet<String> = zhuqi::routes::endpoints()
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    let missing_from_spec: Vec<_> = served.difference(&documented).collect();
    let missing_from_server: Vec<_> = documented.difference(&served).collect();
    assert!(
        missing_from_spec.is_empty(),
        "served but not in the spec: {missing_from_spec:?}"
    );
    assert!(
        missing_from_server.is_empty(),
        "in the spec but not served: {missing_from_server:?}"
    );
}

#[test]
fn every_operation_has_a_unique_id_and_documents_its_errors() {
    let spec = spec();
    let mut ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for method in METHODS {
            let Some(op) = item.get(*method) else { continue };
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path:?} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            let responses = op["responses"].as_mapping().expect("responses");
            assert!(
                responses
                    .keys()
                    .any(|k| k.as_str().is_some_and(|s| s.starts_with('2'))),
                "{id} documents no success"
            );
        }
    }
}

#[test]
fn the_error_schema_matches_the_server() {
    let spec = spec();
    let error = &spec["components"]["schemas"]["Error"];
    let inner = &error["properties"]["error"]["required"];
    let required: Vec<&str> = inner
        .as_sequence()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["code", "message", "details"]);
}
