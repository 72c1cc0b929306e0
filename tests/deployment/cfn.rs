//! template.yaml read as JSON, with CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`,
//! `!If`, ...) turned into their long form (`{"Ref": ...}`, `{"Fn::GetAtt": [..]}`, ...), and
//! typed access to its `AWS::Serverless::Function` resources.

use serde_json::{Map, Value, json};

use crate::workspace_root;

/// API Gateway's catch-all route, as [`Function::http_route`] names it.
pub const DEFAULT_ROUTE: &str = "$default";

/// The parsed template.
pub struct Template(pub Value);

/// One `AWS::Serverless::Function` of the template.
pub struct Function<'a> {
    pub logical_id: &'a str,
    pub resource: &'a Value,
}

impl Template {
    pub fn load() -> Self {
        let path = workspace_root().join("template.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let yaml: serde_norway::Value =
            serde_norway::from_str(&text).unwrap_or_else(|e| panic!("template.yaml is not YAML: {e}"));
        Template(long_form(yaml))
    }

    pub fn resources(&self) -> &Map<String, Value> {
        self.0["Resources"]
            .as_object()
            .expect("template.yaml has Resources")
    }

    /// The resource `logical_id`, which must exist.
    #[track_caller]
    pub fn resource(&self, logical_id: &str) -> &Value {
        self.resources()
            .get(logical_id)
            .unwrap_or_else(|| panic!("template.yaml has no resource {logical_id}"))
    }

    pub fn functions(&self) -> Vec<Function<'_>> {
        self.resources()
            .iter()
            .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
            .map(|(logical_id, resource)| Function { logical_id, resource })
            .collect()
    }

    /// The function built from the binary `name`, which must exist.
    #[track_caller]
    pub fn function(&self, name: &str) -> Function<'_> {
        self.functions()
            .into_iter()
            .find(|f| f.binary() == name)
            .unwrap_or_else(|| panic!("template.yaml has no function with Binary {name}"))
    }

    /// `Globals.Function.Environment.Variables`.
    pub fn global_environment(&self) -> &Map<String, Value> {
        self.0["Globals"]["Function"]["Environment"]["Variables"]
            .as_object()
            .expect("template.yaml has Globals.Function.Environment.Variables")
    }
}

impl Function<'_> {
    pub fn properties(&self) -> &Value {
        &self.resource["Properties"]
    }

    /// `Metadata.BuildProperties.Binary`: the cargo binary, named as the function.
    #[track_caller]
    pub fn binary(&self) -> &str {
        self.resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no Metadata.BuildProperties.Binary", self.logical_id))
    }

    /// The method and path of the function's one `HttpApi` event on the `Api`. An event with
    /// neither is SAM's way to write API Gateway's `$default` route: ("ANY", "$default").
    #[track_caller]
    pub fn http_route(&self) -> (String, String) {
        let events = self.properties()["Events"]
            .as_object()
            .unwrap_or_else(|| panic!("{}: no Events", self.logical_id));
        let [(_, event)] = events.iter().collect::<Vec<_>>()[..] else {
            panic!(
                "{}: expected exactly one event, found {}",
                self.logical_id,
                events.len()
            );
        };
        assert_eq!(
            event["Type"], "HttpApi",
            "{}: the event is not an HttpApi event",
            self.logical_id
        );
        let properties = &event["Properties"];
        assert_eq!(
            properties["ApiId"],
            json!({"Ref": "Api"}),
            "{}: the event is not on the one HttpApi `Api`",
            self.logical_id
        );
        if properties.get("Method").is_none() && properties.get("Path").is_none() {
            return ("ANY".to_owned(), DEFAULT_ROUTE.to_owned());
        }
        let field = |name: &str| {
            properties[name]
                .as_str()
                .unwrap_or_else(|| panic!("{}: the HttpApi event has no {name}", self.logical_id))
                .to_owned()
        };
        (field("Method"), field("Path"))
    }

    /// Every statement of the function's inline policies. Anything but an inline policy document
    /// (a managed policy, a SAM policy template) fails: those grant more than the function needs.
    #[track_caller]
    pub fn statements(&self) -> Vec<&Value> {
        let Some(policies) = self.properties().get("Policies") else {
            return Vec::new();
        };
        let policies = policies
            .as_array()
            .unwrap_or_else(|| panic!("{}: Policies is not a list", self.logical_id));
        policies
            .iter()
            .flat_map(|policy| {
                let document = policy
                    .as_object()
                    .filter(|p| p.keys().all(|k| k == "Statement" || k == "Version"));
                document
                    .and_then(|p| p["Statement"].as_array())
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: only inline policy documents are allowed, found {policy}",
                            self.logical_id
                        )
                    })
            })
            .collect()
    }
}

/// Statement `Action`: one action or a list of them.
pub fn actions(statement: &Value) -> Vec<&str> {
    match &statement["Action"] {
        Value::String(action) => vec![action.as_str()],
        Value::Array(actions) => actions.iter().filter_map(Value::as_str).collect(),
        other => panic!("unexpected Action {other} in {statement}"),
    }
}

/// A YAML value as JSON, short-form intrinsic functions in their long form.
fn long_form(value: serde_norway::Value) -> Value {
    use serde_norway::Value as Yaml;
    match value {
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(long_form).collect()),
        Yaml::Mapping(mapping) => Value::Object(
            mapping
                .into_iter()
                .map(|(key, value)| match key {
                    Yaml::String(key) => (key, long_form(value)),
                    other => panic!("template.yaml: a key that is not a string: {other:?}"),
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let value = long_form(tagged.value);
            match (name, value) {
                ("Ref" | "Condition", value) => json!({ name: value }),
                // `!GetAtt Table.Arn` is `{"Fn::GetAtt": ["Table", "Arn"]}`.
                ("GetAtt", Value::String(dotted)) => {
                    let (resource, attribute) = dotted
                        .split_once('.')
                        .unwrap_or_else(|| panic!("template.yaml: !GetAtt {dotted} has no attribute"));
                    json!({ "Fn::GetAtt": [resource, attribute] })
                }
                (name, value) => json!({ format!("Fn::{name}"): value }),
            }
        }
        scalar => serde_json::to_value(scalar).expect("a YAML scalar is JSON"),
    }
}
