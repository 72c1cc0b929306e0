//! The edge layer of abuse resistance in template.yaml: every route is throttled, the routes that
//! run bcrypt or send email more strictly than the rest, and the optional WAF layer is wired to
//! the API and guarded to us-east-1.

use serde_json::Value;
use shared::routes::Endpoint;

use crate::cfn::Template;

/// The routes that run bcrypt or send email: each must have its own, stricter limit.
const EXPENSIVE: [Endpoint; 9] = [
    Endpoint::Login,
    Endpoint::Register,
    Endpoint::RequestEmail,
    Endpoint::ResetPassword,
    Endpoint::SetPassword,
    Endpoint::ChangePassword,
    Endpoint::ChangeEmail,
    Endpoint::ConfirmEmailChange,
    Endpoint::DeleteAccount,
];

fn limits(settings: &Value) -> (f64, f64) {
    let number = |name: &str| {
        settings[name]
            .as_f64()
            .unwrap_or_else(|| panic!("{name} missing in {settings}"))
    };
    (number("ThrottlingBurstLimit"), number("ThrottlingRateLimit"))
}

#[test]
fn every_route_is_throttled_and_the_expensive_ones_more_strictly() {
    let template = Template::load();
    let api = &template.resource("Api")["Properties"];
    let (default_burst, default_rate) = limits(&api["DefaultRouteSettings"]);
    let routes = api["RouteSettings"].as_object().expect("Api has RouteSettings");
    for endpoint in EXPENSIVE {
        let key = format!("{} {}", endpoint.method(), endpoint.path());
        let settings = routes
            .get(&key)
            .unwrap_or_else(|| panic!("no RouteSettings for {key}"));
        let (burst, rate) = limits(settings);
        assert!(burst < default_burst && rate < default_rate, "{key}: {settings}");
    }
    // Every key names a real route (a typo would silently throttle nothing).
    for key in routes.keys() {
        assert!(
            Endpoint::ALL
                .iter()
                .any(|e| format!("{} {}", e.method(), e.path()) == *key),
            "RouteSettings key {key} is not a route"
        );
    }
}

#[test]
fn the_optional_waf_limits_auth_requests_per_ip_in_front_of_the_api() {
    let template = Template::load();
    let acl = template.resource("WebAcl");
    let distribution = template.resource("Distribution");
    for resource in [acl, distribution] {
        assert_eq!(resource["Condition"], "UseWaf");
    }
    assert_eq!(acl["Properties"]["Scope"], "CLOUDFRONT");
    let rule = &acl["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"];
    assert_eq!(rule["AggregateKeyType"], "IP");
    assert_eq!(rule["Limit"]["Ref"], "WafAuthRateLimit");
    let config = &distribution["Properties"]["DistributionConfig"];
    assert_eq!(config["WebACLId"]["Fn::GetAtt"][0], "WebAcl");
    let origin = config["Origins"][0]["DomainName"].to_string();
    assert!(origin.contains("${Api}.execute-api"), "{origin}");
    // CloudFront-scoped web ACLs exist only in us-east-1: the stack refuses any other region.
    let rule = &template.0["Rules"]["WafNeedsUsEast1"];
    assert_eq!(rule["Assertions"][0]["Assert"]["Fn::Equals"][1], "us-east-1");
    assert_eq!(template.0["Parameters"]["EnableWaf"]["Default"], "false");
}
