//! The route table, template.yaml and `functions/` name the same functions, methods and paths, and
//! the local router sends each template route to the handler of the same function.

use std::collections::BTreeSet;

use lambda_http::http::Method;
use shared::jobs::WORKER_FUNCTION;
use shared::routes::{Endpoint, FALLBACK_FUNCTION, resolve};

use crate::cfn::{DEFAULT_ROUTE, Template};
use crate::{assert_same_set, workspace_root};

/// (function name, method, path)
type Route = (String, String, String);

/// The route table as (function, method, path).
fn route_table() -> BTreeSet<Route> {
    Endpoint::ALL
        .iter()
        .map(|e| {
            (
                e.function_name().to_owned(),
                e.method().to_string(),
                e.path().to_owned(),
            )
        })
        .collect()
}

/// The route table plus the fallback function on API Gateway's `$default` route.
fn deployed_routes() -> BTreeSet<Route> {
    let mut routes = route_table();
    routes.insert((
        FALLBACK_FUNCTION.to_owned(),
        "ANY".to_owned(),
        DEFAULT_ROUTE.to_owned(),
    ));
    routes
}

#[test]
fn the_route_table_functions_and_template_agree() {
    let table = deployed_routes();

    let template = Template::load();
    // Every function but the worker, which the table's stream invokes (tests/deployment/jobs.rs).
    let functions: Vec<_> = template
        .functions()
        .into_iter()
        .filter(|f| f.binary() != WORKER_FUNCTION)
        .collect();
    let deployed: BTreeSet<Route> = functions
        .iter()
        .map(|f| {
            let (method, path) = f.http_route();
            (f.binary().to_owned(), method, path)
        })
        .collect();
    assert_eq!(
        deployed.len(),
        functions.len(),
        "two functions of template.yaml share a Binary"
    );
    assert_same_set("the route table", &table, "template.yaml", &deployed);

    let mut names: BTreeSet<String> = table.iter().map(|(name, _, _)| name.clone()).collect();
    names.insert(WORKER_FUNCTION.to_owned());
    assert_same_set("the route table", &names, "functions/", &function_crates());

    for function in &functions {
        let name = function.binary();
        assert_eq!(
            function.logical_id,
            format!("{}Function", pascal_case(name)),
            "the logical id of function {name} is not its name in PascalCase + Function"
        );
        assert_eq!(
            function.resource["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{}: Metadata.BuildMethod must be rust-cargolambda",
            function.logical_id
        );
        // `sam build` runs `cargo lambda build --bin <name>` in CodeUri. From the workspace root
        // cargo would select every member and unify their features: each function would link
        // SQLite, SES, Secrets Manager and DynamoDB (the local server's and the tests'). From the
        // function's own directory it builds that package with its own features only.
        assert_eq!(
            function.properties()["CodeUri"],
            format!("functions/{name}"),
            "{}: CodeUri must be the function's own crate",
            function.logical_id
        );

        let (method, path) = function.http_route();
        if path == DEFAULT_ROUTE {
            continue;
        }
        let sample = sample_path(&path);
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let (endpoint, _) = resolve(&method, &sample)
            .unwrap_or_else(|e| panic!("the local router does not resolve {method} {sample}: {e:?}"));
        assert_eq!(
            endpoint.function_name(),
            name,
            "the local router sends {method} {sample} to another function than template.yaml"
        );
    }
}

/// The directory names under `functions/`, checking that each is a crate building one binary of
/// its own name whose main runs `shared::handlers::<name>::handle`.
fn function_crates() -> BTreeSet<String> {
    let dir = workspace_root().join("functions");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    let mut names = BTreeSet::new();
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let manifest = std::fs::read_to_string(path.join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("functions/{name}/Cargo.toml: {e}"));
        assert_eq!(
            bin_names(&manifest),
            std::slice::from_ref(&name),
            "functions/{name}/Cargo.toml must declare exactly one [[bin]] named {name}"
        );
        let main = std::fs::read_to_string(path.join("src/main.rs"))
            .unwrap_or_else(|e| panic!("functions/{name}/src/main.rs: {e}"));
        // Each crate runs its own route of the table, with that route's handler (the fallback:
        // the table's 404/405).
        let entry = match Endpoint::ALL.iter().find(|e| e.function_name() == name) {
            Some(endpoint) => format!(
                "shared::lambda::run(shared::routes::Endpoint::{endpoint:?},shared::handlers::{}::handle",
                name.replace('-', "_")
            ),
            None if name == WORKER_FUNCTION => "shared::lambda::run_worker()".to_owned(),
            None => "shared::lambda::run_fallback()".to_owned(),
        };
        let code: String = main.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            code.contains(&entry),
            "functions/{name}/src/main.rs does not call {entry}"
        );
        names.insert(name);
    }
    names
}

/// The `name` of each `[[bin]]` table of a Cargo.toml.
fn bin_names(manifest: &str) -> Vec<String> {
    let manifest: toml::Table = manifest.parse().expect("a valid Cargo.toml");
    manifest
        .get("bin")
        .and_then(|bins| bins.as_array())
        .map(|bins| {
            bins.iter()
                .filter_map(|b| b.get("name")?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The routes `cargo lambda watch` serves: `[workspace.metadata.lambda.watch.router]` of the root
/// Cargo.toml, as (function, method, path).
fn watch_router() -> BTreeSet<Route> {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).expect("Cargo.toml");
    let manifest: toml::Table = manifest.parse().expect("a valid Cargo.toml");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("[workspace.metadata.lambda.watch.router]");
    let mut routes = BTreeSet::new();
    for (path, targets) in router {
        for target in targets.as_array().expect("a list of { method, function }") {
            let field = |name: &str| target[name].as_str().expect("method and function").to_owned();
            routes.insert((field("function"), field("method"), path.clone()));
        }
    }
    routes
}

#[test]
fn cargo_lambda_watch_serves_the_route_table() {
    let table = route_table();
    assert_same_set(
        "the route table",
        &table,
        "the cargo-lambda watch router",
        &watch_router(),
    );
}

/// `refresh-token` → `RefreshToken`.
fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A path with every `{param}` replaced by a sample value.
pub(crate) fn sample_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "sample-value"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
