//! Documentation and discovery: `/openapi.json` (the same document the `openapi` function
//! serves, but for its server), `/docs` and every asset it loads from this service.

use serde_json::Value;
use shared::App;
use shared::config::{Config, Deployment};
use shared::routes::Endpoint;
use ucontact_tests::{Answer, Server};

use crate::workspace_root;

#[tokio::test]
async fn the_openapi_document_is_the_openapi_functions_but_for_its_server() {
    let app = Server::start().await;
    let answer = app.get("/openapi.json").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let mut local = answer.json();
    assert_eq!(local["openapi"], "3.1.0");
    assert_eq!(local["servers"], serde_json::json!([{ "url": app.base }]));

    let mut deployed = openapi_function_answer().await;
    assert_eq!(
        deployed["servers"],
        serde_json::json!([{ "url": "https://abc123.execute-api.eu-west-1.amazonaws.com" }])
    );
    local.as_object_mut().unwrap().remove("servers");
    deployed.as_object_mut().unwrap().remove("servers");
    assert!(
        local == deployed,
        "the local and the deployed documents differ beyond their server"
    );
}

/// What the `openapi` function answers to its sample event, run in-process.
async fn openapi_function_answer() -> Value {
    let event = std::fs::read_to_string(workspace_root().join("events/openapi.json")).expect("the event");
    let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
    let data_dir = tempfile::tempdir().expect("a temp dir");
    let data = data_dir.path().to_string_lossy().into_owned();
    let config = Config::from_lookup(Deployment::Local, |name| match name {
        "UCONTACT_DATA_DIR" => Some(data.clone()),
        _ => None,
    })
    .expect("a config");
    let app = App::build(config, Endpoint::Openapi.keys(), shared::store::WarmUp::None)
        .await
        .expect("the app");
    let response = Endpoint::Openapi.call(&app, request).await;
    assert_eq!(response.status(), 200);
    serde_json::from_slice(response.body().as_ref()).expect("JSON")
}

#[tokio::test]
async fn docs_is_swagger_ui_served_whole_by_the_service() {
    let app = Server::start().await;
    let page = app.get("/docs").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let policy = page.header("content-security-policy").unwrap_or_default();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"),
        "the page may load scripts or call hosts other than this service: {policy}"
    );
    assert!(page.text.contains(r#"<div id="swagger-ui">"#), "{}", page.text);

    let assets = asset_links(&page);
    assert_eq!(
        assets,
        [
            "docs/swagger-ui.css",
            "docs/swagger-ui-bundle.js",
            "docs/swagger-initializer.js"
        ],
        "the page's assets"
    );
    for (asset, content_type, marker) in [
        ("/docs/swagger-ui.css", "text/css; charset=utf-8", ".swagger-ui"),
        (
            "/docs/swagger-ui-bundle.js",
            "text/javascript; charset=utf-8",
            "SwaggerUIBundle",
        ),
        (
            "/docs/swagger-initializer.js",
            "text/javascript; charset=utf-8",
            "openapi.json",
        ),
    ] {
        let answer = app.get(asset).await;
        assert_eq!(answer.status, 200, "{asset}");
        assert_eq!(answer.header("content-type"), Some(content_type), "{asset}");
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{asset}"
        );
        assert!(
            answer
                .header("cache-control")
                .unwrap_or_default()
                .starts_with("public"),
            "{asset} is not cacheable"
        );
        assert!(answer.text.contains(marker), "{asset} lacks {marker:?}");
        assert!(
            !answer.text.contains("sourceMappingURL"),
            "{asset} makes the browser fetch a source map the service does not serve"
        );
    }
    app.get("/docs/index.html").await.assert_detail(404, "Not Found");
    let traversal = app.get("/docs/%2E%2E%2Fopenapi.json").await;
    assert_eq!(traversal.status, 404, "a path outside the docs files");
}

/// The `href` of stylesheets and the `src` of scripts, in page order.
fn asset_links(page: &Answer) -> Vec<String> {
    let mut links = Vec::new();
    for attribute in [r#"rel="stylesheet" href=""#, r#"<script src=""#] {
        let mut rest = page.text.as_str();
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("a closing quote");
            links.push(rest[..end].to_owned());
        }
    }
    links
}
