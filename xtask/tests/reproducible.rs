//! The generator is a pure function of the checkout: run twice on the same tree it
//! writes the same bytes, and what it writes is what the catalogue crate reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use wechatpay_chain_catalogue::schema::{JsonType, Location, OperationSchema};
use wechatpay_chain_catalogue::Method;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture");
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generate(out: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["catalogue", FIXTURE, "--commit", COMMIT, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap()
}

#[test]
fn the_generator_is_reproducible_and_its_output_reads_back() {
    let (a, b) = (scratch("a"), scratch("b"));
    let summary = generate(&a);
    generate(&b);
    for file in ["data/index.rs", "data/schemas.json", "NOTICE"] {
        assert_eq!(
            read(&a, file),
            read(&b, file),
            "{file} differs between two runs"
        );
    }
    assert!(summary.starts_with("5 operations on 4 paths"), "{summary}");

    let index = String::from_utf8(read(&a, "data/index.rs")).unwrap();
    // Sorted by path then method; `{empty}` is the trailing slash; facts carried.
    let rows: Vec<&str> = index
        .lines()
        .filter(|l| l.contains("Operation::row("))
        .collect();
    assert_eq!(rows.len(), 5);
    assert!(rows[0].contains(r#"Method::Delete, "hk/v3/x""#));
    assert!(
        rows[1].contains(r#"Method::Post, "v2/pay/thing""#)
            && rows[1].contains("true, \"\", XML, XML")
    );
    assert!(rows[2].contains(r#"Method::Post, "v3/applyment/""#));
    assert!(rows[2].contains(r#""https://apihk.example.invalid/", MULTIPART, JSON"#));
    assert!(rows[3].contains(r#"Method::Get, "v3/things/{thing_id}", "查询东西API", "https://pay.weixin.qq.com/doc/v3/merchant/1", false"#));
    assert!(rows[4].contains(r#"Method::Patch, "v3/things/{thing_id}", "修改东西API", "", true"#));
    assert!(index.contains(&format!("UPSTREAM_COMMIT: &str = \"{COMMIT}\"")));
    let notice = String::from_utf8(read(&a, "NOTICE")).unwrap();
    assert!(notice.contains(COMMIT) && notice.contains("MIT licence text of the fixture."));

    let schemas: Vec<OperationSchema> = serde_json::from_slice(&read(&a, "data/schemas.json"))
        .expect("the catalogue's model reads it");
    assert_eq!(schemas.len(), 5);
    let text = String::from_utf8(read(&a, "data/schemas.json")).unwrap();
    assert!(
        !text.contains("dropped") && !text.contains("description"),
        "prose left in: {text}"
    );

    let get = &schemas[3];
    assert_eq!(
        (get.method, get.path.as_str()),
        (Method::Get, "v3/things/{thing_id}")
    );
    let query = get.parameters_in(Location::Query).next().unwrap();
    assert!(query.required, "`require: true` read as required");
    // `#Name` reference, with the sibling example kept over the referenced schema.
    let kind = &get.success().unwrap().schema.as_ref().unwrap().properties["kind"];
    assert_eq!(kind.allowed, ["BIG", "SMALL"]);
    assert_eq!(kind.example, Some("BIG".into()));

    // allOf over a `#/Name` reference that itself references another file.
    let patch = &schemas[4];
    let body = patch.body.as_ref().unwrap();
    assert_eq!(body.required, ["openid", "note"]);
    assert_eq!(
        body.properties.keys().collect::<Vec<_>>(),
        ["openid", "amount", "note"]
    );
    assert!(body.properties["amount"].requires("total"));
    assert_eq!(body.properties["note"].max_length, Some(32));
    assert_eq!(patch.responses[0].status, 204);
    assert!(patch.responses[0].schema.is_none());

    let upload = &schemas[2];
    let meta = upload.parameters_in(Location::FormData).nth(1).unwrap();
    assert!(meta
        .schema
        .json_string
        .as_ref()
        .unwrap()
        .properties
        .contains_key("sha256"));

    let v2 = schemas[1].body.as_ref().unwrap();
    assert!(v2.properties["appid"].cdata);
    assert_eq!(v2.properties["sign_type"].json_type, Some(JsonType::String));

    let _ = std::fs::remove_dir_all(a);
    let _ = std::fs::remove_dir_all(b);
}

#[test]
fn a_tree_that_is_not_a_checkout_is_refused() {
    let out = scratch("refused");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "catalogue",
            "/nonexistent/checkout",
            "--commit",
            COMMIT,
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a wechatpay-openapi checkout"),
        "{stderr}"
    );
    assert!(!out.join("data").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(out);
}
