//! The optional edge authorizer of template.yaml (`EdgeJwtAuthorizer`): an API Gateway JWT
//! authorizer on exactly the routes whose handler requires an access token, trusting the tokens'
//! own issuer and audience, allowed only with RS256 (the one algorithm HTTP API JWT authorizers
//! verify), and off unless asked for. The signing algorithm and audience are parameters that
//! reach every function's environment.

use std::collections::BTreeSet;

use lambda_http::Body;
use lambda_http::http::{Request, StatusCode};
use serde_json::{Value, json};
use shared::http::detail;
use shared::routes::{Endpoint, route};

use crate::assert_same_set;
use crate::cfn::Template;
use crate::events::app_on_embedded_store_with;
use crate::routes::sample_path;

/// The security scheme's name in the API's definition.
const SCHEME: &str = "UContactJwt";
/// The condition that turns the authorizer on.
const CONDITION: &str = "UseEdgeJwtAuthorizer";

/// A method's `security` when the authorizer guards it: the scheme if the condition holds, else
/// nothing (the route as SAM writes it without an authorizer).
fn guarded_security() -> Value {
    json!({"Fn::If": [CONDITION, [{ SCHEME: [] }], {"Ref": "AWS::NoValue"}]})
}

/// The routes (method, path) whose handler answers a request without an `Authorization` header
/// with the contract's 401 "Not authenticated": those that require an access token.
async fn routes_that_require_an_access_token() -> BTreeSet<(String, String)> {
    let data_dir = tempfile::tempdir().expect("a temp dir");
    let app = app_on_embedded_store_with(data_dir.path(), &[]).await;
    let mut guarded = BTreeSet::new();
    for endpoint in Endpoint::ALL {
        let request = Request::builder()
            .method(endpoint.method())
            .uri(sample_path(endpoint.path()))
            .body(Body::Empty)
            .expect("a request");
        let (resolved, request) = route(request).expect("the sample path resolves");
        assert_eq!(resolved, endpoint, "{}", endpoint.path());
        let response = resolved.call(&app, request).await;
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        if response.status() == StatusCode::UNAUTHORIZED
            && body == json!({"detail": detail::NOT_AUTHENTICATED})
        {
            guarded.insert((endpoint.method().to_string(), endpoint.path().to_owned()));
        }
    }
    guarded
}

#[tokio::test]
async fn the_edge_authorizer_guards_exactly_the_routes_that_take_an_access_token() {
    let guarded = routes_that_require_an_access_token().await;
    // The probe itself: account and contacts routes need a token, the ways to get one do not.
    assert!(
        guarded.contains(&("GET".into(), "/api/users/me".into())),
        "{guarded:?}"
    );
    assert!(
        guarded.contains(&("POST".into(), "/api/auth/logout-all".into())),
        "{guarded:?}"
    );
    assert!(
        !guarded.contains(&("POST".into(), "/api/auth/login".into())),
        "{guarded:?}"
    );
    assert!(
        !guarded.contains(&("POST".into(), "/api/auth/refresh-token".into())),
        "{guarded:?}"
    );
    assert!(
        !guarded.contains(&("POST".into(), "/api/auth/logout".into())),
        "{guarded:?}"
    );

    let template = Template::load();
    let paths = template.resource("Api")["Properties"]["DefinitionBody"]["paths"]
        .as_object()
        .expect("Api: DefinitionBody.paths");
    let mut in_template = BTreeSet::new();
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().expect("a path item") {
            // Only the authorizer: SAM adds the integration from the function's event.
            assert_eq!(
                operation,
                &json!({ "security": guarded_security() }),
                "Api: {method} {path} holds more than the edge authorizer"
            );
            in_template.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    assert_same_set(
        "the routes whose handler requires an access token",
        &guarded,
        "the edge authorizer's routes in template.yaml",
        &in_template,
    );
}

/// Evaluates the intrinsic functions the issuer expression uses, with `PublicBaseUrl` = `base`.
fn evaluate(value: &Value, base: &str) -> Value {
    let Some((function, argument)) = value.as_object().and_then(|o| o.iter().next()) else {
        return value.clone();
    };
    let string = |v: &Value| evaluate(v, base).as_str().expect("a string").to_owned();
    match function.as_str() {
        "Ref" => {
            assert_eq!(argument, "PublicBaseUrl");
            json!(base)
        }
        "Fn::Sub" => json!(
            argument
                .as_str()
                .expect("the one-string form of Sub")
                .replace("${PublicBaseUrl}", base)
        ),
        "Fn::Split" => json!(
            string(&argument[1])
                .split(argument[0].as_str().unwrap())
                .collect::<Vec<_>>()
        ),
        "Fn::Select" => {
            let index = argument[0].as_u64().expect("an index") as usize;
            evaluate(&argument[1], base)[index].clone()
        }
        other => panic!("the issuer expression uses {other}, which this test cannot evaluate"),
    }
}

#[tokio::test]
async fn the_authorizer_trusts_the_tokens_own_issuer_and_audience() {
    let template = Template::load();
    let components = &template.resource("Api")["Properties"]["DefinitionBody"]["components"]["Fn::If"];
    assert_eq!(components[0], CONDITION);
    assert_eq!(components[2], json!({"Ref": "AWS::NoValue"}));
    let scheme = &components[1]["securitySchemes"][SCHEME];
    let authorizer = &scheme["x-amazon-apigateway-authorizer"];
    assert_eq!(authorizer["type"], "jwt");
    assert_eq!(authorizer["identitySource"], "$request.header.Authorization");
    let configuration = &authorizer["jwtConfiguration"];
    assert_eq!(configuration["audience"], json!([{"Ref": "JwtAudience"}]));

    // The issuer is what the functions put in `iss` for the same PublicBaseUrl, byte for byte,
    // whether or not the parameter ends in a slash (the ApiUrl output does).
    for base in [
        "https://api.example.com",
        "https://api.example.com/",
        "https://d111111abcdef8.cloudfront.net/",
        "https://example.com/identity",
        "https://example.com/identity/",
    ] {
        let data_dir = tempfile::tempdir().expect("a temp dir");
        let app = app_on_embedded_store_with(data_dir.path(), &[("PUBLIC_BASE_URL", base)]).await;
        let request = Request::builder()
            .uri("/api/users/me")
            .body(Body::Empty)
            .expect("a request");
        let iss = shared::http::issuer(&app, &request);
        assert_eq!(
            evaluate(&configuration["issuer"], base),
            json!(iss),
            "PublicBaseUrl {base}"
        );
        assert!(!iss.ends_with('/'), "{iss}");
    }

    // The audience is the functions' JWT_AUDIENCE, and the algorithm their JWT_ALGORITHM.
    let environment = template.global_environment();
    assert_eq!(environment["JWT_AUDIENCE"], json!({"Ref": "JwtAudience"}));
    assert_eq!(environment["JWT_ALGORITHM"], json!({"Ref": "JwtAlgorithm"}));
    let parameters = &template.0["Parameters"];
    assert_eq!(parameters["JwtAudience"]["Default"], "ucontact");
    assert_eq!(parameters["JwtAlgorithm"]["Default"], "EdDSA");
    assert_eq!(
        parameters["JwtAlgorithm"]["AllowedValues"],
        json!(["EdDSA", "ES256", "RS256"])
    );
}

#[test]
fn the_authorizer_is_off_by_default_and_needs_rs256_and_an_issuer() {
    let template = Template::load();
    let parameters = &template.0["Parameters"];
    // Off by default: API Gateway's own 401 body is not the contract's {"detail": ...}.
    assert_eq!(parameters["EdgeJwtAuthorizer"]["Default"], "false");
    assert_eq!(
        parameters["EdgeJwtAuthorizer"]["AllowedValues"],
        json!(["false", "true"])
    );
    let on = json!({"Fn::Equals": [{"Ref": "EdgeJwtAuthorizer"}, "true"]});
    assert_eq!(template.0["Conditions"][CONDITION], on);

    let rule = &template.0["Rules"]["EdgeJwtAuthorizerNeedsRs256AndAnIssuer"];
    assert_eq!(rule["RuleCondition"], on);
    let assertions: Vec<&Value> = rule["Assertions"]
        .as_array()
        .expect("Assertions")
        .iter()
        .map(|a| &a["Assert"])
        .collect();
    assert_eq!(
        assertions,
        [
            &json!({"Fn::Equals": [{"Ref": "JwtAlgorithm"}, "RS256"]}),
            &json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "PublicBaseUrl"}, ""]}]}),
        ]
    );
    // No event attaches an authorizer of its own: the guarded routes above are all there is.
    for function in template.functions() {
        for (name, event) in function.properties()["Events"].as_object().into_iter().flatten() {
            assert!(
                event["Properties"].get("Auth").is_none(),
                "{}: event {name} sets Auth",
                function.logical_id
            );
        }
    }
}
