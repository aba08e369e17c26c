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

/// Where `body` breaks the schema the spec gives for the JSON 200 answer of `GET path` (a
/// path template as in the spec): missing required fields, fields the spec does not declare,
/// values of the wrong type. Empty when they agree.
pub fn disagreements(path: &str, body: &serde_json::Value) -> Vec<String> {
    let spec: serde_json::Value = serde_json::to_value(spec()).expect("the spec as JSON");
    let schema = &spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(!schema.is_null(), "no JSON 200 answer for GET {path} in the spec");
    let mut found = Vec::new();
    check(&spec, schema, body, "$", &mut found);
    found
}

/// Where `body` breaks the named schema of `components/schemas` (for answers no `GET` gives,
/// such as an upload's). Empty when they agree.
pub fn schema_disagreements(name: &str, body: &serde_json::Value) -> Vec<String> {
    let spec: serde_json::Value = serde_json::to_value(spec()).expect("the spec as JSON");
    let schema = &spec["components"]["schemas"][name];
    assert!(!schema.is_null(), "no schema {name} in the spec");
    let mut found = Vec::new();
    check(&spec, schema, body, "$", &mut found);
    found
}

fn resolve<'a>(spec: &'a serde_json::Value, schema: &'a serde_json::Value) -> &'a serde_json::Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(spec, spec.pointer(pointer).expect("a $ref that resolves"))
        }
        None => schema,
    }
}

fn type_matches(kind: &str, value: &serde_json::Value) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn check(
    spec: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    at: &str,
    found: &mut Vec<String>,
) {
    let schema = resolve(spec, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let fits = options.iter().any(|option| {
                let mut inner = Vec::new();
                check(spec, option, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                found.push(format!("{at}: fits none of {key}"));
            }
            return;
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        // One object of every part's properties and requirements: a field of one part is not
        // "undeclared" for another.
        let mut merged = serde_json::json!({"type": "object", "properties": {}, "required": []});
        for part in all {
            let part = resolve(spec, part);
            if let Some(properties) = part["properties"].as_object() {
                for (name, field) in properties {
                    merged["properties"][name] = field.clone();
                }
            }
            if let (Some(required), Some(all_required)) =
                (part["required"].as_array(), merged["required"].as_array_mut())
            {
                all_required.extend(required.iter().cloned());
            }
            if part.get("properties").is_none() && part.get("type").is_none() {
                // A part that is not an object schema (an enum, a oneOf): checked on its own.
                check(spec, part, value, at, found);
            }
        }
        check(spec, &merged, value, at, found);
        return;
    }
    let kinds: Vec<&str> = match &schema["type"] {
        serde_json::Value::String(kind) => vec![kind.as_str()],
        serde_json::Value::Array(kinds) => kinds.iter().filter_map(|k| k.as_str()).collect(),
        _ => Vec::new(),
    };
    if !kinds.is_empty() && !kinds.iter().any(|k| type_matches(k, value)) {
        found.push(format!("{at}: {value} is not {kinds:?}"));
        return;
    }
    // A closed vocabulary: the value must be one of its words (an outcome the spec does not
    // list got past this check until the fuzzer found it).
    if let Some(words) = schema["enum"].as_array() {
        if !words.contains(value) {
            found.push(format!("{at}: {value} is not one of {}", schema["enum"]));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            found.push(format!("{at}: {value} is not {constant}"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                found.push(format!("{at}.{name}: required by the spec, missing"));
            }
        }
        for (name, field) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(field_schema) => check(spec, field_schema, field, &format!("{at}.{name}"), found),
                None if schema["additionalProperties"].is_object() => {
                    check(
                        spec,
                        &schema["additionalProperties"],
                        field,
                        &format!("{at}.{name}"),
                        found,
                    );
                }
                None if properties.is_some() => found.push(format!("{at}.{name}: not in the spec")),
                None => {}
            }
        }
    }
    if let (Some(items), Some(schema_items)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(spec, schema_items, item, &format!("{at}[{i}]"), found);
        }
    }
}

#[test]
fn the_shape_check_finds_missing_extra_and_mistyped_fields() {
    let good = serde_json::json!({
        "region_code": "430200", "unit_id": null, "day": "2026-11-20",
        "officers_total": 4, "officers_signed_in": 1, "sign_in_rate": 0.25,
        "officers_reported": 1, "report_rate": 0.25, "problems_new": 2, "problems_open": 2,
        "problems_overdue": 0, "resolution_rate": 0.0, "on_time_rate": null,
        "benefits_month": {"problems": 0, "loan_yuan": 0, "fees_reduced_yuan": 0, "subsidies_yuan": 0,
                           "positions_filled": 0, "with_other": 0},
    });
    assert_eq!(
        disagreements("/api/v1/stats/overview", &good),
        Vec::<String>::new()
    );
    let mut bad = good.clone();
    bad.as_object_mut().map(|o| o.remove("day"));
    bad["surprise"] = serde_json::json!(1);
    bad["officers_total"] = serde_json::json!("four");
    let found = disagreements("/api/v1/stats/overview", &bad);
    assert_eq!(found.len(), 3, "{found:#?}");
}

/// Every code in `api-spec/error-codes.yaml`, the catalogue the spec's error answers use.
fn catalogue() -> BTreeSet<String> {
    let codes: Value = serde_yaml::from_str(include_str!("../../api-spec/error-codes.yaml")).expect("YAML");
    codes
        .as_mapping()
        .expect("a mapping of codes")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn every_code_the_server_can_answer_with_is_the_catalogue() {
    // `ErrorCode` is the only way the source names a code, so its list is what the server can
    // answer with (its unit test also compares the statuses and the order).
    let ours: BTreeSet<String> = zhuqi::error::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(ours, catalogue());
}

/// One operation of the spec as the error check needs it.
struct Operation {
    method: String,
    /// The path's segments; `None` for a `{parameter}`.
    segments: Vec<Option<String>>,
    codes: BTreeSet<String>,
    statuses: BTreeSet<String>,
}

fn operations() -> &'static (Vec<Operation>, BTreeSet<String>) {
    static OPERATIONS: std::sync::OnceLock<(Vec<Operation>, BTreeSet<String>)> = std::sync::OnceLock::new();
    OPERATIONS.get_or_init(|| {
        let spec = spec();
        let mut operations = Vec::new();
        for (path, item) in spec["paths"].as_mapping().expect("paths") {
            let path = path.as_str().unwrap_or_default();
            let segments: Vec<Option<String>> = path
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            for method in METHODS {
                let Some(op) = item.get(*method) else { continue };
                let strings = |v: &Value| -> BTreeSet<String> {
                    v.as_sequence()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.as_str().map(str::to_owned))
                        .collect()
                };
                operations.push(Operation {
                    method: method.to_uppercase(),
                    segments: segments.clone(),
                    codes: strings(&op["x-error-codes"]),
                    statuses: op["responses"]
                        .as_mapping()
                        .into_iter()
                        .flatten()
                        .filter_map(|(k, _)| k.as_str().map(str::to_owned))
                        .collect(),
                });
            }
        }
        let codes: Value =
            serde_yaml::from_str(include_str!("../../api-spec/error-codes.yaml")).expect("YAML");
        let global = codes
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v["global"].as_bool() == Some(true))
            .filter_map(|(k, _)| k.as_str().map(str::to_owned))
            .collect();
        (operations, global)
    })
}

/// Panics unless an error answer agrees with the spec: its operation documents the status and
/// lists the code in `x-error-codes` (a path no operation has may only be `route.not_found`, a
/// code marked `global` may come from any path). `helpers::send` calls it for every error
/// answer of every test, so each test also proves the spec lists what it provoked.
pub fn assert_documented_error(method: &str, path: &str, status: u16, code: &str, body: &serde_json::Value) {
    let spec_json: &serde_json::Value = {
        static SPEC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
        SPEC.get_or_init(|| serde_json::to_value(spec()).expect("the spec as JSON"))
    };
    // The body in the shape of the spec's `Error`, details included (one shape per kind of
    // details: every validation error is `errors: [{field, code, message}]`).
    let mut found = Vec::new();
    check(
        spec_json,
        &serde_json::json!({"$ref": "#/components/schemas/Error"}),
        body,
        "$",
        &mut found,
    );
    assert!(
        found.is_empty(),
        "{method} {path} answered {status} {code} in a shape the spec does not give: {found:#?}\n{body}"
    );
    let (operations, global) = operations();
    if global.contains(code) {
        return;
    }
    let parts: Vec<&str> = path.split('/').collect();
    let matches = |op: &&Operation| {
        op.method == method
            && op.segments.len() == parts.len()
            && op
                .segments
                .iter()
                .zip(&parts)
                .all(|(segment, part)| segment.as_deref().map_or(!part.is_empty(), |s| s == *part))
    };
    // The most literal match wins: /daily-reports/missing over /daily-reports/{enterprise_id}.
    let operation = operations
        .iter()
        .filter(matches)
        .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count());
    let Some(operation) = operation else {
        assert_eq!(
            code, "route.not_found",
            "{method} {path}: no operation, yet {status} {code}"
        );
        return;
    };
    assert!(
        operation.statuses.contains(&status.to_string()),
        "{method} {path} answered {status} ({code}), a status its operation does not document"
    );
    assert!(
        operation.codes.contains(code),
        "{method} {path} answered {status} {code}, which its operation's x-error-codes do not list"
    );
}

#[test]
fn the_field_error_codes_are_the_servers() {
    let spec = spec();
    let listed: Vec<&str> = spec["components"]["schemas"]["FieldErrorCode"]["enum"]
        .as_sequence()
        .expect("enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let ours: Vec<&str> = zhuqi::domain::field_error::FieldCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(listed, ours);
}
