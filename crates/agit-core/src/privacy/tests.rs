//! Detector tests: a positive and a near-miss per rule, the reference's false positives,
//! redaction, capture placeholders, findings, and properties on arbitrary bytes.

use super::*;
use crate::config::{CaptureConfig, CaptureLevel};
use crate::hash::ObjectId;
use crate::object::{Message, Step, ToolCall};

fn detector() -> Detector {
    Detector::default()
}

/// `(rule, matched text)` for every match.
fn found(text: &str) -> Vec<(Rule, String)> {
    detector().scan(text.as_bytes()).into_iter().map(|m| (m.rule, text[m.range()].to_owned())).collect()
}

#[track_caller]
fn assert_finds(text: &str, rule: Rule, secret: &str) {
    let all = found(text);
    assert!(all.contains(&(rule, secret.to_owned())), "expected {rule} = {secret:?} in {text:?}, got {all:?}");
}

#[track_caller]
fn assert_no(text: &str, rule: Rule) {
    let all = found(text);
    assert!(!all.iter().any(|(r, _)| *r == rule), "unexpected {rule} in {text:?}: {all:?}");
}

#[track_caller]
fn assert_clean(text: &str) {
    let all = found(text);
    assert!(all.is_empty(), "expected no findings in {text:?}, got {all:?}");
}

fn redact(text: &str) -> String {
    detector().redact_str(text)
}

const GH: &str = "ghp_0123456789abcdefghijABCDEFGHIJklmnop";
const JWT: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

// ---- sensitive_assignment -------------------------------------------------------------

#[test]
fn sensitive_assignment_json_and_line_forms() {
    assert_finds(r#"{"token":"abc"}"#, Rule::SensitiveAssignment, "abc");
    assert_eq!(redact(r#"{"token":"abc"}"#), r#"{"token":"[REDACTED]"}"#);
    assert_finds(r#"{"client_secret" : "s3cr3t value"}"#, Rule::SensitiveAssignment, "s3cr3t value");
    assert_finds("API_KEY=abc123", Rule::SensitiveAssignment, "abc123");
    assert_eq!(redact("export API_KEY=abc123\nnext"), "export API_KEY=[REDACTED]\nnext");
    assert_finds("password: hunter2", Rule::SensitiveAssignment, "hunter2");
    assert_finds("  - db_password: 'quoted pass'", Rule::SensitiveAssignment, "quoted pass");
    assert_finds("GITHUB_TOKEN := \"xyz789\"", Rule::SensitiveAssignment, "xyz789");
    assert_finds("{'apiKey': 'k-123'}", Rule::SensitiveAssignment, "k-123");
    assert_finds("X-Api-Key: abcdef", Rule::SensitiveAssignment, "abcdef");
    assert_finds("https://api.example.com/cb?access_token=tok123&x=1", Rule::SensitiveAssignment, "tok123");
    assert_finds("spring.datasource.password=pa55", Rule::SensitiveAssignment, "pa55");
    assert_finds("os.environ[\"AWS_SECRET_ACCESS_KEY\"] = \"v4lue\"", Rule::SensitiveAssignment, "v4lue");
    assert_finds("my password: hunter2 ok", Rule::SensitiveAssignment, "hunter2");
    // JSON nested in a JSON string (escaped tool arguments, raw step bytes).
    assert_finds(r#"{"args":"{\"token\":\"n3sted\"}"}"#, Rule::SensitiveAssignment, "n3sted");
    assert_finds(r#"{"content":"config:\npassword: hunter2\nnext: 1"}"#, Rule::SensitiveAssignment, "hunter2");
}

#[test]
fn sensitive_assignment_reference_false_positives_are_gone() {
    // Substring key matching: `max_tokens` contains `token`, `secretary` contains `secret`.
    assert_clean(r#"{"model":"m","max_tokens":4096,"input_tokens":"12"}"#);
    assert_clean("max_tokens = 4096");
    assert_clean("secretary: Jane Doe");
    assert_clean(r#"{"secretary":"Jane"}"#);
    // Values like `null` and `[` were redacted.
    assert_clean(r#"{"token": null, "password": [1, 2], "secret": {"a": 1}, "api_key": 42, "auth_token": true}"#);
    assert_eq!(redact(r#"{"token":null}"#), r#"{"token":null}"#);
    // A line-form `=` inside a JSON string redacted across the structure.
    let json = r#"{"description":"set token=abc","n":1}"#;
    assert_eq!(redact(json), r#"{"description":"set token=[REDACTED]","n":1}"#);
    assert!(serde_json::from_str::<serde_json::Value>(&redact(json)).is_ok());
    assert_clean(r#"{"api_key_hint": "see x=1", "count": 2}"#);
}

#[test]
fn sensitive_assignment_near_misses() {
    for text in [
        "token_count: 5",
        r#"{"next_page_token": "CAoQAA"}"#,
        "nextPageToken=CAoQAA",
        "secret_key_env: AGIT_S3_SECRET_KEY",
        "TOKEN=${GITHUB_TOKEN}",
        "token: ${{ secrets.GITHUB_TOKEN }}",
        "password=$DB_PASSWORD",
        r#"{"api_key": "<your-api-key>"}"#,
        "password: ********",
        "  password: string;",
        "fn login(token: &str, password: String) {}",
        "if token == expected {",
        "token = get_token()",
        "token = env[\"TOKEN\"]",
        "connect(password=password)",
        "The author: Jane",
        "authentication: required",
        "tokenizer=fast",
        "token\n: abc",
        r#"{"token": ""}"#,
        "The token: it expires",
        r#"<input type="password" name="password" value="">"#,
        "    token: Token,",
        "  password: Option<String>,",
        "  authToken?: string;",
        "headers = {'Authorization': f'Bearer {token}'}",
        "PASSWORD_STORE_DIR=~/.password-store",
        "credential.helper=osxkeychain",
    ] {
        assert_no(text, Rule::SensitiveAssignment);
    }
    // Environment dumps in tool results.
    for text in ["SSH_AUTH_SOCK=/tmp/ssh-XXXXabc123/agent.12345", "PWD=/home/me/project-2024-Final", "OLDPWD=/srv/x"] {
        assert_clean(text);
    }
    assert_finds("secret = f'plain-value'", Rule::SensitiveAssignment, "plain-value");
    assert_finds("secret = b'bytes-v4l'", Rule::SensitiveAssignment, "bytes-v4l");
    assert_finds("password = r'raw\\pass'", Rule::SensitiveAssignment, "raw\\pass");
}

/// Shapes seen when scanning real source trees (syn, windows-sys, winnow, GitHub workflows):
/// agents' transcripts are full of code, and every finding blocks a push.
#[test]
fn code_is_not_a_secret() {
    for text in [
        "let token = match self {",
        "let current_token = loop {",
        "let token = start + BEARER.len();",
        "        semi_token: semi,",
        "        colon_token: Some(colon_token),",
        "        type_token: Token![type],",
        "        paren_token: node.paren_token,",
        "        colon2_token: node.colon2_token,",
        "    bound.paren_token = paren_token;",
        "pub const InheritPrivateKey: X509RequestInheritOptions = 3i32;",
        "pub const ERROR_INVALID_TOKEN: WIN32_ERROR = 315u32;",
        "IFLA_INET6_TOKEN = 7,",
        "    type Token = char;",
        "    Error::SecretTooLong => \"secret is too long\",",
        "let tts: TokenStream = \"1\".parse().unwrap();",
        "      id-token: write # Required for OIDC",
        "    any_token_occurrences: impl Into<Range>,",
        "    pnToken: *mut ::core::ffi::c_int,",
        "API_KEY=YOUR_API_KEY",
        "pub const XCN_NCRYPT_PCP_SIGNATURE_KEY: X509HardwareKeyUsageFlags = 1i32;",
        "    super::SQLITE_AUTH => ErrorCode::AuthorizationForStatementDenied,",
        "    FLAGS_PASS = sys::IORING_MSG_RING_FLAGS_PASS;",
        "    staging_key: Some(staging.key().to_owned()),",
    ] {
        assert_clean(text);
    }
    // String literals in code still count, and so do long numbers and Ruby hashes.
    assert_finds("let password = \"hunter42\";", Rule::SensitiveAssignment, "hunter42");
    assert_finds("PASSWORD=123456", Rule::SensitiveAssignment, "123456");
    assert_finds("{'token' => 'abc123'}", Rule::SensitiveAssignment, "abc123");
    assert_finds("{:api_key => \"x1\"}", Rule::SensitiveAssignment, "x1");
    assert_finds("  token: abc123 # prod", Rule::SensitiveAssignment, "abc123");
}

// ---- bearer_token ---------------------------------------------------------------------

#[test]
fn bearer_token() {
    let text = "Authorization: Bearer secret-token-123456";
    assert_finds(text, Rule::BearerToken, "secret-token-123456");
    assert_finds(text, Rule::SensitiveAssignment, "Bearer secret-token-123456");
    assert_eq!(redact(text), "Authorization: [REDACTED]");
    assert_finds(r#"curl -H "authorization: bearer abc123def" x"#, Rule::BearerToken, "abc123def");
    assert_finds("token: bearer ABCDEFGHIJKLMNOPQRSTUVWXYZ", Rule::BearerToken, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    assert_finds("Bearer dGVzdA+/x9==.", Rule::BearerToken, "dGVzdA+/x9==");
    // Near misses: too short, prose, variables, no space.
    assert_no("Bearer abc12", Rule::BearerToken);
    assert_no("Bearer tokens are handy", Rule::BearerToken);
    assert_no("Authorization: Bearer $TOKEN", Rule::BearerToken);
    assert_no("Bearer:abc123456", Rule::BearerToken);
    assert_no("unbearer abc123456", Rule::BearerToken);
}

// ---- token formats --------------------------------------------------------------------

#[test]
fn github_token() {
    assert_finds(&format!("export GH={GH}."), Rule::GithubToken, GH);
    assert_finds("github_pat_11ABCDEFG0123456789_abcdef", Rule::GithubToken, "github_pat_11ABCDEFG0123456789_abcdef");
    assert_finds("gho_abc123", Rule::GithubToken, "gho_abc123");
    assert_no("ghp_abc12", Rule::GithubToken);
    assert_no(&format!("x{GH}"), Rule::GithubToken);
    assert_no("Ghp_abcdef123456", Rule::GithubToken);
}

#[test]
fn aws_access_key() {
    assert_finds("key AKIAIOSFODNN7EXAMPLE.", Rule::AwsAccessKey, "AKIAIOSFODNN7EXAMPLE");
    assert_finds("ASIAIOSFODNN7EXAMPLE", Rule::AwsAccessKey, "ASIAIOSFODNN7EXAMPLE");
    assert_no("AKIAIOSFODNN7EXAMPL", Rule::AwsAccessKey);
    assert_no("AKIAIOSFODNN7EXAMPLEX", Rule::AwsAccessKey);
    assert_no("xAKIAIOSFODNN7EXAMPLE", Rule::AwsAccessKey);
    assert_no("AKIAiosfodnn7example", Rule::AwsAccessKey);
}

#[test]
fn aws_secret_access_key() {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    assert_finds(&format!("AKIAIOSFODNN7EXAMPLE {secret}"), Rule::AwsSecretAccessKey, secret);
    assert_finds(&format!("{secret}\n{}\nAKIAIOSFODNN7EXAMPLE", "x".repeat(200)), Rule::AwsSecretAccessKey, secret);
    // Near misses: no access key, access key too far away, 41 characters, no digit.
    assert_no(secret, Rule::AwsSecretAccessKey);
    assert_no(&format!("AKIAIOSFODNN7EXAMPLE {} {secret}", "x".repeat(300)), Rule::AwsSecretAccessKey);
    assert_no(&format!("AKIAIOSFODNN7EXAMPLE {secret}Z"), Rule::AwsSecretAccessKey);
    assert_no("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMIxKxMDENGxbPxRfiCYEXAMPLEKEY", Rule::AwsSecretAccessKey);
}

#[test]
fn private_key_block_multiline_pem() {
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n";
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----");
    let text = format!("here:\n{pem}\ntrailing text");
    assert_finds(&text, Rule::PrivateKeyBlock, &pem);
    assert_eq!(redact(&text), "here:\n[REDACTED]\ntrailing text");
    let rsa = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----");
    assert_finds(&rsa, Rule::PrivateKeyBlock, &rsa);
    let openssh = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}-----END OPENSSH PRIVATE KEY-----\n");
    assert_finds(&openssh, Rule::PrivateKeyBlock, openssh.trim_end());
    // No END marker: the block runs to the end of the text.
    let truncated = format!("-----BEGIN EC PRIVATE KEY-----\n{body}");
    assert_finds(&format!("x {truncated}"), Rule::PrivateKeyBlock, &truncated);
    // Escaped inside JSON (raw step bytes).
    let escaped = format!("{{\"key\":\"{}\"}}", pem.replace('\n', "\\n"));
    assert_finds(&escaped, Rule::PrivateKeyBlock, &pem.replace('\n', "\\n"));
    // Near misses: public keys, certificates, code that only names the markers.
    assert_no(&format!("-----BEGIN PUBLIC KEY-----\n{body}-----END PUBLIC KEY-----"), Rule::PrivateKeyBlock);
    assert_no(&format!("-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----"), Rule::PrivateKeyBlock);
    assert_no(
        "const H = \"-----BEGIN RSA PRIVATE KEY-----\";\nconst F = \"-----END RSA PRIVATE KEY-----\";",
        Rule::PrivateKeyBlock,
    );
}

#[test]
fn platform_prefixes() {
    let slack = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp";
    assert_finds(slack, Rule::SlackToken, slack);
    assert_no("xoxb-1234567890123456789", Rule::SlackToken);
    assert_no(&format!("a{slack}"), Rule::SlackToken);

    let google = "AIzaSyA-1234567890abcdefghijklmnopqrstu";
    assert_eq!(google.len(), 4 + 35);
    assert_finds(google, Rule::GoogleApiKey, google);
    assert_no(&google[..google.len() - 1], Rule::GoogleApiKey);

    let stripe = "sk_live_0123456789abcdefABCDEFGH";
    assert_finds(stripe, Rule::StripeKey, stripe);
    assert_finds("rk_test_0123456789abcdefABCDEFGH", Rule::StripeKey, "rk_test_0123456789abcdefABCDEFGH");
    assert_no("sk_live_0123456789abcdefABCDEFG", Rule::StripeKey);

    let npm = "npm_abcdefghijklmnopqrstuvwxyz0123456789";
    assert_finds(npm, Rule::NpmToken, npm);
    assert_no("npm_abcdefghijklmnopqrstuvwxyz012345678", Rule::NpmToken);
    // npm's environment variables are not tokens.
    assert_no("npm_config_registry_url_for_the_private_packages_mirror=x", Rule::NpmToken);
    assert_no("npm_package_devDependencies_typescript_eslint_parser", Rule::NpmToken);
}

#[test]
fn openai_and_anthropic_keys() {
    let openai = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6";
    assert_finds(openai, Rule::OpenaiKey, openai);
    let legacy = format!("sk-{}", "aB3".repeat(16));
    assert_finds(&legacy, Rule::OpenaiKey, &legacy);
    assert_no(&format!("sk-{}", "aB3".repeat(16).get(1..).unwrap_or_default()), Rule::OpenaiKey);
    // Reference false positive: no left boundary, so `task-…` hit `sk-`.
    assert_no(&format!("task-{}", "aB3".repeat(16)), Rule::OpenaiKey);
    assert_no("sk-this-is-a-very-long-kebab-case-identifier-without-any-digits-in-it", Rule::OpenaiKey);

    let anthropic = format!("sk-ant-api03-{}AA", "Xy7_-Zq".repeat(13));
    let all = found(&format!("ANTHROPIC_API_KEY={anthropic}"));
    assert!(all.contains(&(Rule::AnthropicKey, anthropic.clone())), "{all:?}");
    assert!(!all.iter().any(|(r, _)| *r == Rule::OpenaiKey), "an Anthropic key is not an OpenAI key: {all:?}");
    assert_no("sk-ant-api03-short", Rule::AnthropicKey);
}

#[test]
fn gitlab_token() {
    assert_finds("glpat-AbCdEf0123456789xyZ_", Rule::GitlabToken, "glpat-AbCdEf0123456789xyZ_");
    assert_finds("gldt-AbCdEf0123456789xyZ_", Rule::GitlabToken, "gldt-AbCdEf0123456789xyZ_");
    assert_no("glpat-AbCdEf0123456789x", Rule::GitlabToken);
    assert_no("xglpat-AbCdEf0123456789xyZ_", Rule::GitlabToken);
}

#[test]
fn jwt_token() {
    assert_finds(&format!("id_token {JWT}."), Rule::JwtToken, JWT);
    assert_no("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", Rule::JwtToken);
    assert_no("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.notapayloadatallbutlongenough.sig", Rule::JwtToken);
    assert_no(&format!("x{JWT}"), Rule::JwtToken);
}

#[test]
fn url_credentials() {
    let url = "postgres://admin:s3cr3tP4ss@db.example.com:5432/app";
    assert_finds(url, Rule::UrlCredentials, "s3cr3tP4ss");
    assert_eq!(redact(url), "postgres://admin:[REDACTED]@db.example.com:5432/app");
    assert_finds("redis://:p4ss@localhost", Rule::UrlCredentials, "p4ss");
    assert_finds(r#"{"url":"https://u:pw%40x@host/x"}"#, Rule::UrlCredentials, "pw%40x");
    for text in [
        "https://user@example.com/repo",
        "git@github.com:org/repo.git",
        "https://example.com/a:b@c",
        "postgres://user:${DB_PASSWORD}@host/db",
        "https://user:@host",
        "https://user:pw@ host",
        "mailto:a:b@c",
    ] {
        assert_no(text, Rule::UrlCredentials);
    }
}

#[test]
fn generic_secret() {
    assert_finds("SIGNING_KEY=Zx8fQ2mL9pR4tV7wY1bN3cK6", Rule::GenericSecret, "Zx8fQ2mL9pR4tV7wY1bN3cK6");
    assert_finds(r#"{"encryptionKey": "q9X2vL7mR4tZ8wK1pN6bY3cF"}"#, Rule::GenericSecret, "q9X2vL7mR4tZ8wK1pN6bY3cF");
    assert_finds("DB_PASS=Qw3rTy7uI9oP2aS5dF8gH1jK", Rule::GenericSecret, "Qw3rTy7uI9oP2aS5dF8gH1jK");
    for text in [
        "SIGNING_KEY=development",
        "SIGNING_KEY=aaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
        "cache_key=3f786850e387550fdab836ed7e6dc881de23001b",
        "public_key: Zx8fQ2mL9pR4tV7wY1bN3cK6",
        "key=Zx8fQ2mL9pR4tV7wY1bN3cK6",
        r#"{"auth": "basic"}"#,
        "session_id=Zx8fQ2mL9pR4tV7wY1bN3cK6",
    ] {
        assert_no(text, Rule::GenericSecret);
    }
    assert!(assign::shannon_entropy(b"aaaa") < 0.01);
    assert!((assign::shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
}

// ---- custom literals ------------------------------------------------------------------

#[test]
fn custom_literals() {
    let d = Detector::new(&["".into(), "hunter2".into(), "abc".into(), "bcd".into(), "hunter2".into()]);
    let spans: Vec<_> = d.scan(b"x hunter2 HUNTER2 hunter2").iter().map(|m| (m.rule, m.start, m.end)).collect();
    assert_eq!(spans, [(Rule::CustomLiteral, 2, 9), (Rule::CustomLiteral, 18, 25)]);
    assert_eq!(d.redact(b"x hunter2 HUNTER2"), b"x [REDACTED] HUNTER2");
    // Overlapping literals are each found, and merge into one marker.
    assert_eq!(d.redact(b"-abcd-"), b"-[REDACTED]-");
    // Empty literals are ignored (they would match everywhere).
    assert!(Detector::new(&["".into()]).is_clean(b"anything"));
    // A literal that is part of the marker does not re-flag redacted text.
    let d = Detector::new(&["RED".into(), "[REDACTED]".into()]);
    let once = d.redact(b"a RED b");
    assert_eq!(once, b"a [REDACTED] b");
    assert_eq!(d.redact(&once), once);
    assert!(d.is_clean(&once));
}

#[test]
fn detector_debug_never_shows_literals() {
    let d = Detector::new(&["hunter2-very-secret".into()]);
    let debug = format!("{d:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("custom_literals: 1"), "{debug}");
}

// ---- bytes, overlaps, redaction -------------------------------------------------------

#[test]
fn non_utf8_bytes() {
    let mut text = b"\xff\xfe token=abc\x80def \xc3\x28 ".to_vec();
    text.extend_from_slice(GH.as_bytes());
    text.extend_from_slice(b" \xff");
    let rules: Vec<Rule> = detector().scan(&text).iter().map(|m| m.rule).collect();
    assert_eq!(rules, [Rule::SensitiveAssignment, Rule::GithubToken]);
    assert_eq!(detector().redact(&text), b"\xff\xfe token=[REDACTED] \xc3\x28 [REDACTED] \xff");
}

#[test]
fn overlapping_matches_merge() {
    let text = format!("token={GH} and {GH}");
    let matches = detector().scan(text.as_bytes());
    let rules: Vec<Rule> = matches.iter().map(|m| m.rule).collect();
    assert_eq!(rules, [Rule::SensitiveAssignment, Rule::GithubToken, Rule::GithubToken]);
    assert_eq!(matches[0].range(), matches[1].range());
    assert_eq!(redact(&text), "token=[REDACTED] and [REDACTED]");
    // At most one finding per rule and text, in rule order.
    let firsts: Vec<Rule> = detector().first_per_rule(text.as_bytes()).iter().map(|m| m.rule).collect();
    assert_eq!(firsts, [Rule::SensitiveAssignment, Rule::GithubToken]);
    // Touching spans merge too.
    let d = Detector::new(&["ab".into(), "cd".into()]);
    assert_eq!(d.redact(b"xabcdx"), b"x[REDACTED]x");
}

fn corpus() -> Vec<String> {
    vec![
        r#"{"token":"abc","n":null}"#.into(),
        "Authorization: Bearer secret-token-123456\nAPI_KEY=abc123 other".into(),
        format!("{GH} {JWT} AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        "postgres://admin:s3cr3tP4ss@db.example.com/app and SIGNING_KEY=Zx8fQ2mL9pR4tV7wY1bN3cK6".into(),
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n".into(),
        "password: [REDACTED]\n{\"secret\": \"[REDACTED]\"}".into(),
        "plain text with nothing".into(),
    ]
}

#[test]
fn redaction_is_idempotent_and_scans_clean() {
    let d = Detector::new(&["hunter2".into()]);
    for text in corpus() {
        let once = d.redact(text.as_bytes());
        assert_eq!(d.redact(&once), once, "{text:?}");
        assert!(d.scan(&once).is_empty(), "{text:?} -> {:?}", String::from_utf8_lossy(&once));
    }
    assert!(matches!(d.redact_cow(b"nothing here"), std::borrow::Cow::Borrowed(_)));
}

#[test]
fn reference_e2e_secret_is_gone_and_rule_named() {
    let text = "curl -H 'Authorization: Bearer secret-token-123456' https://api.example.com";
    let redacted = redact(text);
    assert!(!redacted.contains("secret-token-123456"), "{redacted}");
    assert!(redacted.contains("https://api.example.com"), "{redacted}");
    assert!(detector().first_per_rule(text.as_bytes()).iter().any(|m| m.rule == Rule::BearerToken));
}

// ---- capture levels -------------------------------------------------------------------

#[test]
fn capture_placeholders_are_byte_exact() {
    let d = Detector::default();
    let text = "token=abc é";
    let cases = [
        (TextLabel::Prompt, "[[agit prompt metadata-only: 12 bytes]]", "[[agit prompt capture disabled]]"),
        (
            TextLabel::AssistantMessage,
            "[[agit assistant message metadata-only: 12 bytes]]",
            "[[agit assistant message capture disabled]]",
        ),
        (
            TextLabel::ToolArguments,
            "[[agit tool arguments metadata-only: 12 bytes]]",
            "[[agit tool arguments capture disabled]]",
        ),
        (
            TextLabel::ToolResult,
            "[[agit tool result metadata-only: 12 bytes]]",
            "[[agit tool result capture disabled]]",
        ),
    ];
    for (label, meta, disabled) in cases {
        assert_eq!(capture_text(CaptureLevel::Full, label, text, &d), text);
        assert_eq!(capture_text(CaptureLevel::Redacted, label, text, &d), "token=[REDACTED] é");
        assert_eq!(capture_text(CaptureLevel::MetadataOnly, label, text, &d), meta);
        assert_eq!(capture_text(CaptureLevel::Disabled, label, text, &d), disabled);
    }
    // Placeholders are not themselves findings (so a fail-closed store can be pushed).
    assert!(d.is_clean(b"[[agit tool arguments capture disabled]]"));
}

#[test]
fn snapshot_capture() {
    let d = Detector::default();
    let bytes = b"API_KEY=abc123\n";
    assert_eq!(capture_snapshot(CaptureLevel::Full, "a/.env.example", bytes, &d).as_deref(), Some(&bytes[..]));
    assert_eq!(
        capture_snapshot(CaptureLevel::Redacted, "a/.env.example", bytes, &d).as_deref(),
        Some(&b"API_KEY=[REDACTED]\n"[..])
    );
    assert_eq!(
        capture_snapshot(CaptureLevel::MetadataOnly, "a/.env.example", bytes, &d).as_deref(),
        Some(&b"[[agit snapshot metadata-only path=a/.env.example bytes=15]]\n"[..])
    );
    assert_eq!(capture_snapshot(CaptureLevel::Disabled, "a/.env.example", bytes, &d), None);
}

fn step() -> Step {
    Step {
        parent: None,
        tree: ObjectId::of(b"tree"),
        session_id: "sess-1".into(),
        origin: "claude".into(),
        model: Some("claude-sonnet-4".into()),
        turn_id: "turn-1".into(),
        causes: vec![],
        timestamp: 1_700_000_000_000,
        messages: vec![
            Message { role: "user".into(), content: "use token=abc123 and hunter2, token=again".into() },
            Message { role: "assistant".into(), content: String::new() },
            Message { role: "assistant".into(), content: "done".into() },
        ],
        tool_calls: vec![
            ToolCall {
                tool_name: "Bash".into(),
                args: r#"{"command":"curl -H \"Authorization: Bearer secret-token-123456\""}"#.into(),
                result: Some(format!("{GH}\n")),
            },
            ToolCall { tool_name: "ghp_0123456789abcdef".into(), args: "{}".into(), result: None },
        ],
        outcome: Some("success".into()),
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        git_branch: Some("main".into()),
        git_dirty: Some(false),
    }
}

#[test]
fn apply_capture_by_class() {
    let d = Detector::default();
    let mut s = step();
    let capture = CaptureConfig {
        prompts: CaptureLevel::Redacted,
        assistant: CaptureLevel::MetadataOnly,
        tool_args: CaptureLevel::Disabled,
        tool_results: CaptureLevel::Full,
        snapshots: CaptureLevel::Full,
    };
    apply_capture(&mut s, &capture, &d);
    assert_eq!(s.messages[0].content, "use token=[REDACTED] and hunter2, token=[REDACTED]");
    assert_eq!(s.messages[2].content, "[[agit assistant message metadata-only: 4 bytes]]");
    assert_eq!(s.tool_calls[0].args, "[[agit tool arguments capture disabled]]");
    assert_eq!(s.tool_calls[0].result.as_deref(), Some(&*format!("{GH}\n")));
    assert_eq!(s.tool_calls[1].result, None);
    let mut all = step();
    apply_capture(&mut all, &CaptureConfig::all_disabled(), &d);
    assert!(!String::from_utf8_lossy(&all.encode()).contains("abc123"));
}

// ---- findings -------------------------------------------------------------------------

#[test]
fn scan_step_findings() {
    let d = Detector::new(&["hunter2".into()]);
    let s = step();
    let id = ObjectId::of(&s.encode());
    let findings = scan_step(&s, &id, &d);
    let summary: Vec<(&str, Rule)> = findings.iter().map(|f| (f.source.as_str(), f.rule)).collect();
    assert_eq!(
        summary,
        [
            ("user", Rule::SensitiveAssignment),
            ("user", Rule::CustomLiteral),
            ("tool_args", Rule::SensitiveAssignment),
            ("tool_args", Rule::BearerToken),
            ("tool_result", Rule::GithubToken),
        ]
    );
    for f in &findings {
        assert_eq!((f.origin.as_str(), f.session_id.as_str(), f.turn_id.as_str()), ("claude", "sess-1", "turn-1"));
        assert_eq!(f.hash, id);
        assert_eq!(f.path, None);
        assert_eq!(f.severity, f.rule.severity());
    }
    assert_eq!(findings[3].to_string(), "[error] bearer_token in tool_args (claude/sess-1 turn turn-1)",);
}

#[test]
fn scan_blob_findings_and_json_shape() {
    let s = step();
    let blob = b"id AKIAIOSFODNN7EXAMPLE\n";
    let blob_id = ObjectId::of(blob);
    let findings = scan_blob(&s, "config/aws.env", blob, &blob_id, &detector());
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(
        (f.rule, f.source.as_str(), f.path.as_deref()),
        (Rule::AwsAccessKey, "snapshot_blob", Some("config/aws.env"))
    );
    assert_eq!(
        f.to_string(),
        "[error] aws_access_key in snapshot_blob (claude/sess-1 turn turn-1) path=config/aws.env"
    );
    let json = serde_json::to_string(f).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"severity":"error","rule":"aws_access_key","source":"snapshot_blob","origin":"claude","session_id":"sess-1","turn_id":"turn-1","path":"config/aws.env","hash":"{}"}}"#,
            blob_id.to_hex()
        )
    );
    assert_eq!(serde_json::from_str::<Finding>(&json).unwrap(), *f);
    let report = PrivacyReport {
        stats: ScanStats { sessions: 1, steps: 2, trees: 1, blobs: 3, findings: 1 },
        findings: findings.clone(),
    };
    let report_json = String::from_utf8(report.to_json()).unwrap();
    assert!(report_json.starts_with(
        r#"{"stats":{"sessions":1,"steps":2,"trees":1,"blobs":3,"findings":1},"findings":[{"severity":"error""#
    ));
    assert!(scan_blob(&s, "empty", b"", &ObjectId::of(b""), &detector()).is_empty());
}

#[test]
fn findings_never_contain_secret_values() {
    let secrets = ["abc123", "hunter2", "secret-token-123456", &GH[4..], "AKIAIOSFODNN7EXAMPLE"];
    let d = Detector::new(&["hunter2".into()]);
    let s = step();
    let id = ObjectId::of(&s.encode());
    let mut findings = scan_step(&s, &id, &d);
    findings.extend(scan_blob(&s, "f", b"AKIAIOSFODNN7EXAMPLE", &ObjectId::of(b"x"), &d));
    let rendered = [
        format!("{findings:?}"),
        serde_json::to_string(&findings).unwrap(),
        findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
        format!("{:?}", d.scan(s.messages[0].content.as_bytes())),
    ];
    for text in rendered {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
    }
}

#[test]
fn redact_step_keeps_metadata() {
    let s = step();
    let r = redact_step(&s, &Detector::new(&["hunter2".into()]));
    assert_eq!(r.messages[0].content, "use token=[REDACTED] and [REDACTED], token=[REDACTED]");
    assert!(!r.tool_calls[0].args.contains("secret-token-123456"));
    assert_eq!(r.tool_calls[0].result.as_deref(), Some("[REDACTED]\n"));
    // Tool names are not captured text and stay as they are.
    assert_eq!(r.tool_calls[1].tool_name, s.tool_calls[1].tool_name);
    assert_eq!(
        (&r.model, &r.outcome, &r.git_commit, &r.git_branch, r.git_dirty),
        (&s.model, &s.outcome, &s.git_commit, &s.git_branch, s.git_dirty)
    );
    assert_eq!((r.parent, r.tree, r.timestamp), (s.parent, s.tree, s.timestamp));
}

#[test]
fn rule_names_and_severities() {
    for rule in Rule::ALL {
        assert_eq!(Rule::parse(rule.as_str()), Some(rule));
        assert_eq!(serde_json::to_string(&rule).unwrap(), format!("\"{rule}\""));
    }
    let errors: Vec<&str> = Rule::ALL.iter().filter(|r| r.severity() == Severity::Warn).map(|r| r.as_str()).collect();
    assert_eq!(errors, ["sensitive_assignment", "generic_secret", "custom_literal"]);
    assert_eq!(serde_json::to_string(&Severity::Warn).unwrap(), "\"warn\"");
}

// ---- adversarial input ----------------------------------------------------------------

#[test]
fn adversarial_inputs_stay_linear() {
    // Shapes that make naive `find_iter` + reject loops quadratic. 2 MB each; a quadratic
    // walk would take minutes even in debug builds.
    let n = 1 << 21;
    let inputs: Vec<Vec<u8>> = vec![
        b"xsk-".iter().copied().chain(b"sk-".repeat(n / 3)).collect(),
        b"token=".repeat(n / 6),
        b"\"token\": \"[REDACTED] ".repeat(n / 20),
        b"-----BEGIN RSA PRIVATE KEY-----".repeat(n / 31),
        b"a://b:c".repeat(n / 7),
        b"eyJ".repeat(n / 3),
        b"AKIAIOSFODNN7EXAMPLE ".iter().copied().chain(b"a1".repeat(n / 2)).collect(),
        b"password: ".repeat(n / 10),
        b"\"password: [REDACTED] ".repeat(n / 22),
        [b"a".repeat(1000), b"token=".to_vec()].concat().repeat(n / 1006),
        b"token\"\"\"".repeat(n / 8),
        b"Bearer ".repeat(n / 7),
        vec![b'a'; n],
    ];
    let d = Detector::new(&["aa".into()]);
    for input in inputs {
        let started = std::time::Instant::now();
        let _ = d.scan(&input);
        let _ = d.redact(&input);
        assert!(started.elapsed().as_secs() < 20, "slow on {:?}…", String::from_utf8_lossy(&input[..40]));
    }
}

/// Cases proptest found: a token run swallowing a PEM `-----END` marker once a neighbour
/// was redacted, so redaction did not converge.
#[test]
fn redaction_converges_around_pem_markers() {
    let d = Detector::new(&["hunter2".into()]);
    let cases: [&[u8]; 2] = [
        b"AKIAIOSFODNN7EXAMPLE-----BEGIN PRIVATE KEY-----hunter2ghp_abcdef123-----END PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        b"-----BEGIN PRIVATE KEY-----hunter2Bearer Zx8fQ2mL9pR4tV7wY1bN3cK6-----END PRIVATE KEY-----wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY-----END PRIVATE KEY-----ghp_abcdef123",
    ];
    for text in cases {
        let once = d.redact(text);
        assert_eq!(d.redact(&once), once, "{:?}", String::from_utf8_lossy(&once));
        assert!(d.is_clean(&once));
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Text made of fragments that exercise the detectors, plus arbitrary bytes.
    fn fragments() -> impl Strategy<Value = Vec<u8>> {
        let pieces = prop_oneof![
            Just(b"token".to_vec()),
            Just(b"password".to_vec()),
            Just(b"api_key".to_vec()),
            Just(b"SIGNING_KEY".to_vec()),
            Just(b"Bearer ".to_vec()),
            Just(b"=".to_vec()),
            Just(b": ".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"'".to_vec()),
            Just(b"\\\"".to_vec()),
            Just(b"\n".to_vec()),
            Just(b" ".to_vec()),
            Just(b"[REDACTED]".to_vec()),
            Just(b"ghp_abcdef123".to_vec()),
            Just(b"AKIAIOSFODNN7EXAMPLE".to_vec()),
            Just(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_vec()),
            Just(b"-----BEGIN PRIVATE KEY-----".to_vec()),
            Just(b"-----END PRIVATE KEY-----".to_vec()),
            Just(b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7".to_vec()),
            Just(b"https://u:p4ss@h".to_vec()),
            Just(b"sk-".to_vec()),
            Just(b"eyJhbGciOiJIUzI1NiJ9".to_vec()),
            Just(b".".to_vec()),
            Just(b"Zx8fQ2mL9pR4tV7wY1bN3cK6".to_vec()),
            Just(b"abc123".to_vec()),
            Just(b"hunter2".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(pieces, 0..40).prop_map(|parts| parts.concat())
    }

    proptest! {
        // Failures are pinned as unit tests below rather than persisted next to the crate.
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn scan_and_redact_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let d = Detector::new(&["hunter2".into(), "\u{0}".into()]);
            for m in d.scan(&bytes) {
                prop_assert!(m.start < m.end && m.end <= bytes.len());
            }
            let _ = d.redact(&bytes);
        }

        #[test]
        fn redaction_keeps_utf8_valid(text in "(\\PC|token=|Bearer |ghp_abcdef1|\"key\": \"|é)*") {
            let d = Detector::new(&["é".into()]);
            prop_assert!(String::from_utf8(d.redact(text.as_bytes())).is_ok());
        }

        #[test]
        fn redaction_leaves_no_flagged_secret(bytes in fragments()) {
            let d = Detector::new(&["hunter2".into()]);
            let before: Vec<(Rule, Vec<u8>)> =
                d.scan(&bytes).into_iter().map(|m| (m.rule, bytes[m.range()].to_vec())).collect();
            let redacted = d.redact(&bytes);
            for m in d.scan(&redacted) {
                let span = (m.rule, redacted[m.range()].to_vec());
                prop_assert!(!before.contains(&span), "{:?} still flagged in {:?}", span, String::from_utf8_lossy(&redacted));
            }
            prop_assert_eq!(d.redact(&redacted), redacted);
        }
    }
}

/// Throughput on ~50 MB of generated transcript text. Run with
/// `cargo test --release -p agit-core privacy::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let mut text = String::with_capacity(52 << 20);
    let mut i = 0u64;
    while text.len() < 50 << 20 {
        i += 1;
        text.push_str(&format!(
            "{{\"role\":\"user\",\"content\":\"Please refactor the token counter in src/lib.rs line {i}; keep max_tokens at 4096 and the key order stable.\"}}\n\
             {{\"tool_name\":\"Bash\",\"args\":\"{{\\\"command\\\":\\\"cargo test -p agit-core -- --nocapture\\\"}}\",\"result\":\"test result: ok. {i} passed; 0 failed; finished in 0.42s\"}}\n\
             The assistant explained that the password field is validated by `fn check(password: &str) -> bool` and that\n\
             authorization happens in middleware; see https://docs.example.com/auth#keys for the API key rotation policy.\n\
             fn main() {{ let total = {i} * 2; println!(\"{{total}}\"); }} // task-runner handles secretary notes\n"
        ));
        if i.is_multiple_of(1000) {
            text.push_str("export GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJklmnop\n");
        }
    }
    let d = Detector::new(&["corp-internal-literal".into()]);
    let bytes = text.as_bytes();
    let mb = bytes.len() as f64 / (1 << 20) as f64;
    // Thread CPU time as well as wall time: the build machine is shared.
    let cpu = || {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
    };
    let (wall, cpu0) = (std::time::Instant::now(), cpu());
    let matches = d.scan(bytes);
    let (wall, cpu_s) = (wall.elapsed().as_secs_f64(), cpu() - cpu0);
    println!("scan: {mb:.1} MiB, {} matches: {:.0} MiB/s wall, {:.0} MiB/s cpu", matches.len(), mb / wall, mb / cpu_s);
    let (wall, cpu0) = (std::time::Instant::now(), cpu());
    let redacted = d.redact(bytes);
    let (wall, cpu_s) = (wall.elapsed().as_secs_f64(), cpu() - cpu0);
    println!("redact: {:.0} MiB/s wall, {:.0} MiB/s cpu", mb / wall, mb / cpu_s);
    assert!(redacted.len() < bytes.len());
}
