//! The partition keys each function's requests named (round_trips.rs records them) against the
//! `dynamodb:LeadingKeys` condition of its policy in template.yaml: a key outside the families a
//! function may touch is refused when deployed, so the run fails here instead.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, anyhow, bail};
use serde_norway::Value;

/// Function (its `Binary`) → the `LeadingKeys` patterns of its DynamoDB statement.
fn allowed() -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).with_context(|| format!("read {path}"))?;
    let template: Value = serde_norway::from_str(&text).context("template.yaml is YAML")?;
    let resources = template["Resources"]
        .as_mapping()
        .context("template.yaml: no Resources")?;
    let mut allowed = BTreeMap::new();
    for resource in resources.values() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .context("a function without a Binary")?;
        let statements = resource["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|policy| policy["Statement"].as_sequence().into_iter().flatten());
        for statement in statements {
            let actions = match &statement["Action"] {
                Value::String(action) => vec![action.as_str()],
                Value::Sequence(actions) => actions.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !actions.iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            let patterns = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                .as_sequence()
                .ok_or_else(|| {
                    anyhow!("{name}: its DynamoDB statement has no dynamodb:LeadingKeys condition")
                })?
                .iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect();
            allowed.insert(name.to_owned(), patterns);
        }
    }
    Ok(allowed)
}

/// IAM's `StringLike` for the patterns template.yaml uses: a trailing `*`, or an exact value.
fn matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => key == pattern,
    }
}

pub fn check(seen: &BTreeMap<String, BTreeSet<String>>) -> anyhow::Result<()> {
    let allowed = allowed()?;
    let mut refused = Vec::new();
    for (function, keys) in seen {
        let patterns = allowed.get(function).map(Vec::as_slice).unwrap_or_default();
        for key in keys {
            if !patterns.iter().any(|p| matches(p, key)) {
                refused.push(format!("{function}: {key} (allowed: {patterns:?})"));
            }
        }
    }
    if !refused.is_empty() {
        bail!(
            "keys outside a function's dynamodb:LeadingKeys in template.yaml:\n  {}",
            refused.join("\n  ")
        );
    }
    eprintln!(
        "  dynamodb:LeadingKeys: every key of {} functions within its template.yaml families",
        seen.len()
    );
    Ok(())
}
