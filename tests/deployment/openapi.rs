//! The OpenAPI document and the route table describe the same API: every route is an operation
//! (by function name as `operationId`, method and path) and every operation a route; guarded
//! operations declare their security and their 401; bodies declare 413 and 422.

use std::collections::BTreeSet;

use serde_json::Value;
use shared::routes::Endpoint;

use crate::assert_same_set;

/// (operationId, method, path)
type Operation = (String, String, String);

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    let bytes = shared::openapi::document("http://127.0.0.1:8000").expect("the document serializes");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Every operation of the document with its object.
fn operations(document: &Value) -> Vec<(Operation, &Value)> {
    let paths = document["paths"].as_object().expect("paths");
    let mut found = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                    .to_owned();
                found.push(((id, method.to_uppercase(), path.clone()), operation));
            }
        }
    }
    found
}

#[test]
fn the_document_and_the_route_table_have_the_same_operations() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    let documented: BTreeSet<Operation> = operations(&document).into_iter().map(|(o, _)| o).collect();
    let table: BTreeSet<Operation> = Endpoint::ALL
        .iter()
        .map(|e| {
            (
                e.function_name().to_owned(),
                e.method().to_string(),
                e.path().to_owned(),
            )
        })
        .collect();
    assert_same_set("the route table", &table, "the OpenAPI document", &documented);
}

#[test]
fn guarded_operations_declare_bearer_security_and_their_401() {
    let document = document();
    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .expect("securitySchemes");
    assert_eq!(
        schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"],
        "/api/auth/login"
    );
    assert_eq!(schemes["HTTPBearer"]["scheme"], "bearer");
    let mut guarded = 0;
    for ((id, ..), operation) in operations(&document) {
        let Some(security) = operation.get("security") else {
            continue;
        };
        guarded += 1;
        let names: BTreeSet<&str> = security
            .as_array()
            .expect("a list")
            .iter()
            .flat_map(|requirement| requirement.as_object().expect("an object").keys())
            .map(String::as_str)
            .collect();
        assert_eq!(
            names,
            BTreeSet::from(["OAuth2PasswordBearer", "HTTPBearer"]),
            "{id}: security"
        );
        let unauthorized = &operation["responses"]["401"];
        assert!(
            unauthorized["headers"].get("WWW-Authenticate").is_some(),
            "{id}: 401 without WWW-Authenticate"
        );
        let examples = unauthorized["content"]["application/json"]["examples"].to_string();
        assert!(
            examples.contains("Not authenticated") && examples.contains("Could not validate credentials"),
            "{id}: the 401 examples are not the contract's"
        );
    }
    // logout-all, me, the five account routes under /api/users/me (confirm-email-change is
    // not guarded), the five second-factor routes, the four passkey routes under /api/users/me
    // the six contacts routes and the OpenID Connect userinfo.
    assert_eq!(guarded, 23, "the number of guarded operations");
}

#[test]
fn operations_with_a_body_declare_413_and_422_and_store_errors_their_retry_after() {
    let document = document();
    for ((id, ..), operation) in operations(&document) {
        let responses = operation["responses"].as_object().expect("responses");
        if operation.get("requestBody").is_some() {
            // The OpenID Connect forms answer bad fields as RFC 6749 errors or in the page.
            let statuses: &[&str] = if operation["tags"][0] == "oidc" {
                &["413"]
            } else {
                &["413", "422"]
            };
            for status in statuses {
                assert!(
                    responses.contains_key(*status),
                    "{id}: takes a body but documents no {status}"
                );
            }
        }
        for status in ["429", "503"] {
            if let Some(response) = responses.get(status) {
                assert!(
                    response["headers"].get("Retry-After").is_some(),
                    "{id}: {status} without Retry-After"
                );
            }
        }
        for (status, response) in responses {
            // The hosted pages answer their errors as pages, and the token endpoint as RFC 6749.
            let page = response["content"].get("text/html").is_some();
            let oauth = id == "token" && status == "400";
            if (status.starts_with('4') || status.starts_with('5')) && !page && !oauth {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert!(
                    schema == "#/components/schemas/ErrorDetail"
                        || schema == "#/components/schemas/HTTPValidationError",
                    "{id}: {status} is not in the contract's error shape: {schema}"
                );
            }
        }
    }
}
