//! Request bodies (JSON and forms), their fields, and path parameters, with FastAPI-shaped 422s
//! that name every bad field at once. Values are never echoed back: they may be passwords.

use http::header;
use lambda_http::RequestExt;
use serde_json::{Map, Value, json};

use super::{ApiError, Issue, Request, detail};
use crate::domain::FieldError;

fn content_type(request: &Request) -> Option<String> {
    let value = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.to_owned())
}

/// The media type without parameters, lower-cased (the boundary parameter keeps its case).
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A JSON object body.
#[derive(Debug)]
pub struct JsonBody(Map<String, Value>);

impl JsonBody {
    pub fn parse(request: &Request) -> Result<Self, ApiError> {
        let not_an_object = || {
            ApiError::Validation(vec![Issue::body(
                "model_attributes_type",
                "Input should be a valid dictionary or object to extract fields from",
            )])
        };
        if let Some(ct) = content_type(request) {
            let essence = essence(&ct);
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(not_an_object());
            }
        }
        let bytes = request.body().as_ref();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::Validation(vec![Issue::body(
                "missing",
                "Field required",
            )]));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(not_an_object()),
            Err(e) => Err(ApiError::Validation(vec![Issue {
                kind: "json_invalid",
                loc: vec![json!("body"), json!(offset(bytes, e.line(), e.column()))],
                msg: format!("JSON decode error: {e}"),
            }])),
        }
    }

    pub fn fields(&self) -> Fields<'_> {
        Fields {
            source: Source::Json(&self.0),
            issues: Vec::new(),
        }
    }
}

/// Byte offset of a 1-based line and column, as FastAPI reports JSON errors.
fn offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = bytes
        .split(|b| *b == b'\n')
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    line_start + column.saturating_sub(1)
}

/// A form body: `application/x-www-form-urlencoded` or `multipart/form-data`. Any other content
/// type reads as an empty form, so its required fields are reported missing (as FastAPI does).
#[derive(Debug)]
pub struct FormBody(Vec<(String, String)>);

impl FormBody {
    pub async fn parse(request: &Request) -> Result<Self, ApiError> {
        let Some(ct) = content_type(request) else {
            return Ok(Self(Vec::new()));
        };
        let unparsable = || ApiError::bad_request(detail::BODY_PARSE);
        let bytes = request.body().as_ref();
        match essence(&ct).as_str() {
            "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(bytes)
                .map(Self)
                .map_err(|_| unparsable()),
            "multipart/form-data" => {
                let boundary = multer::parse_boundary(&ct).map_err(|_| unparsable())?;
                let chunk = bytes::Bytes::copy_from_slice(bytes);
                let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(chunk) });
                let mut multipart = multer::Multipart::new(stream, boundary);
                let mut fields = Vec::new();
                while let Some(field) = multipart.next_field().await.map_err(|_| unparsable())? {
                    let name = field.name().unwrap_or_default().to_owned();
                    let value = field.text().await.map_err(|_| unparsable())?;
                    fields.push((name, value));
                }
                Ok(Self(fields))
            }
            _ => Ok(Self(Vec::new())),
        }
    }

    /// Every field as sent, in order (a protocol that reads fields its own way: OAuth 2.0's).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn fields(&self) -> Fields<'_> {
        Fields {
            source: Source::Form(&self.0),
            issues: Vec::new(),
        }
    }
}

enum Source<'a> {
    Json(&'a Map<String, Value>),
    Form(&'a [(String, String)]),
}

/// Reads fields one by one, collecting every problem; [`Fields::finish`] reports them together.
pub struct Fields<'a> {
    source: Source<'a>,
    issues: Vec<Issue>,
}

impl Fields<'_> {
    /// A required string field, parsed by `parse`. `None` means a problem was recorded.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Option<T> {
        let raw = match &self.source {
            Source::Json(map) => match map.get(name) {
                None => Err(FieldError::new("missing", "Field required")),
                Some(Value::String(s)) => Ok(s.as_str()),
                Some(_) => Err(FieldError::new("string_type", "Input should be a valid string")),
            },
            Source::Form(pairs) => pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
                .ok_or_else(|| FieldError::new("missing", "Field required")),
        };
        match raw.and_then(parse) {
            Ok(value) => Some(value),
            Err(e) => {
                self.issues.push(Issue::field("body", name, e.kind, e.message));
                None
            }
        }
    }

    /// An optional string field: absent or `null` is `None`.
    pub fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Option<Option<T>> {
        let absent = match &self.source {
            Source::Json(map) => matches!(map.get(name), None | Some(Value::Null)),
            Source::Form(pairs) => !pairs.iter().any(|(key, _)| key == name),
        };
        if absent {
            Some(None)
        } else {
            self.required(name, parse).map(Some)
        }
    }

    /// A required JSON object field (a WebAuthn credential), taken as it is.
    pub fn object(&mut self, name: &str) -> Option<Value> {
        let found = match &self.source {
            Source::Json(map) => match map.get(name) {
                None => Err(FieldError::new("missing", "Field required")),
                Some(value @ Value::Object(_)) => Ok(value.clone()),
                Some(_) => Err(FieldError::new("dict_type", "Input should be a valid dictionary")),
            },
            Source::Form(_) => Err(FieldError::new("dict_type", "Input should be a valid dictionary")),
        };
        match found {
            Ok(value) => Some(value),
            Err(e) => {
                self.issues.push(Issue::field("body", name, e.kind, e.message));
                None
            }
        }
    }

    /// A required string field taken as it is.
    pub fn string(&mut self, name: &str) -> Option<String> {
        self.required(name, |s| Ok(s.to_owned()))
    }

    /// Ends reading: a 422 naming every problem, if any.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.issues))
        }
    }
}

/// A JSON body with one required field, parsed by `parse`.
pub fn json_field<T>(
    request: &Request,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<T, ApiError> {
    let body = JsonBody::parse(request)?;
    let mut fields = body.fields();
    let value = fields.required(name, parse);
    fields.finish()?;
    present(value)
}

/// Unwraps a field after [`Fields::finish`] succeeded (so it is always there).
pub fn present<T>(field: Option<T>) -> Result<T, ApiError> {
    field.ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("a field passed validation but is missing")))
}

/// A positive integer id in the path: 422 if it is no integer; `None` if not positive (no such
/// thing can exist, so the caller answers 404).
pub fn path_id(request: &Request, name: &str) -> Result<Option<i64>, ApiError> {
    let raw = path_param(request, name)?;
    let id: i64 = raw.parse().map_err(|_| {
        ApiError::Validation(vec![Issue::field(
            "path",
            name,
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        )])
    })?;
    Ok((id > 0).then_some(id))
}

/// Query-string parameters, read one by one like [`Fields`] (422s with `loc: ["query", name]`).
pub struct QueryParams {
    values: std::collections::HashMap<String, String>,
    issues: Vec<Issue>,
}

impl QueryParams {
    pub fn new(request: &Request) -> Self {
        let map = request.query_string_parameters();
        let values = map.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Self {
            values,
            issues: Vec::new(),
        }
    }

    /// An integer in `min..=max`, `default` when absent.
    pub fn integer(&mut self, name: &str, default: i64, min: i64, max: i64) -> i64 {
        let Some(raw) = self.values.get(name) else {
            return default;
        };
        let problem = match raw.trim().parse::<i64>() {
            Ok(value) if value < min => (
                "greater_than_equal",
                format!("Input should be greater than or equal to {min}"),
            ),
            Ok(value) if value > max => (
                "less_than_equal",
                format!("Input should be less than or equal to {max}"),
            ),
            Ok(value) => return value,
            Err(_) => (
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer".into(),
            ),
        };
        self.issues
            .push(Issue::field("query", name, problem.0, problem.1));
        default
    }

    /// A string, `None` when absent.
    pub fn string(&mut self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.issues))
        }
    }
}

/// A path parameter of the matched route (API Gateway's `pathParameters`, or the local router's).
pub fn path_param(request: &Request, name: &str) -> Result<String, ApiError> {
    request
        .path_parameters()
        .first(name)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::Validation(vec![Issue::field("path", name, "missing", "Field required")]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Body::from(body.to_owned())).unwrap()
    }

    fn issues(e: ApiError) -> Vec<Issue> {
        match e {
            ApiError::Validation(issues) => issues,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn json_problems_are_422s_of_the_fastapi_shape() {
        let cases = [
            (Some("application/json"), "", "missing"),
            (Some("application/json"), "{\"a\": ", "json_invalid"),
            (Some("application/json"), "[1, 2]", "model_attributes_type"),
            (Some("text/plain"), "{}", "model_attributes_type"),
        ];
        for (ct, body, kind) in cases {
            let found = issues(JsonBody::parse(&request(ct, body)).unwrap_err());
            assert_eq!(found[0].kind, kind, "{ct:?} {body:?}");
            assert_eq!(found[0].loc[0], json!("body"));
        }
        assert!(JsonBody::parse(&request(None, "{}")).is_ok());
        assert!(JsonBody::parse(&request(Some("application/json; charset=utf-8"), "{}")).is_ok());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let body = JsonBody::parse(&request(Some("application/json"), r#"{"a": 1, "c": "x"}"#)).unwrap();
        let mut fields = body.fields();
        assert_eq!(fields.string("a"), None);
        assert_eq!(fields.string("b"), None);
        assert_eq!(
            fields.required("c", |_| Err::<(), _>(FieldError::new("value_error", "bad"))),
            None
        );
        let found = issues(fields.finish().unwrap_err());
        let kinds: Vec<_> = found.iter().map(|i| (i.loc[1].clone(), i.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (json!("a"), "string_type"),
                (json!("b"), "missing"),
                (json!("c"), "value_error")
            ]
        );
    }

    #[tokio::test]
    async fn forms_read_urlencoded_and_multipart_and_nothing_else() {
        let form = FormBody::parse(&request(
            Some("application/x-www-form-urlencoded"),
            "username=a%40b.c&password=p+q",
        ))
        .await
        .unwrap();
        let mut fields = form.fields();
        assert_eq!(fields.string("username").as_deref(), Some("a@b.c"));
        assert_eq!(fields.string("password").as_deref(), Some("p q"));

        let multipart = "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\njo\r\n--XX--\r\n";
        let form = FormBody::parse(&request(Some("multipart/form-data; boundary=XX"), multipart))
            .await
            .unwrap();
        assert_eq!(form.fields().string("username").as_deref(), Some("jo"));

        let form = FormBody::parse(&request(Some("application/json"), "{\"username\": \"jo\"}"))
            .await
            .unwrap();
        let mut fields = form.fields();
        assert_eq!(fields.string("username"), None);
        assert_eq!(issues(fields.finish().unwrap_err())[0].kind, "missing");
    }
}
