//! The committed catalogue holds what upstream holds, and its two halves (the index
//! and the schemas) agree operation for operation.

use std::collections::BTreeMap;

use wechatpay_chain_catalogue::{check, entries, find, nearest, operations, search, Method};

#[test]
fn the_catalogue_counts_every_upstream_operation() {
    // Counted independently of the generator: `find docs/{v2,v3,hk,global} -name '*.yaml'`
    // at the upstream commit gives 1,072 files (one per path), and `grep -E
    // '^(get|post|put|patch|delete):'` over them 1,155 operations.
    assert_eq!(operations().len(), 1155);
    assert_eq!(entries().len(), 1072);
    let mut by_root: BTreeMap<&str, usize> = BTreeMap::new();
    for op in operations() {
        *by_root
            .entry(op.path().split('/').next().unwrap())
            .or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> =
        [("global", 5), ("hk", 21), ("v2", 136), ("v3", 993)].into();
    assert_eq!(by_root, expected);

    // The table is ordered by path, then method, with no duplicates: lookups rely on it.
    for pair in operations().windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            (a.path(), a.method()) < (b.path(), b.method()),
            "{a} before {b}"
        );
    }
    for entry in entries() {
        assert!(!entry.operations().is_empty());
        assert!(entry
            .operations()
            .iter()
            .all(|op| op.path() == entry.path()));
    }
}

#[test]
fn facts_of_known_operations() {
    // Facts read off the upstream YAML by hand.
    let seed = find("v3/discount-card/orders/{out_order_no}").unwrap();
    assert_eq!(
        seed.methods().collect::<Vec<_>>(),
        [Method::Get, Method::Patch]
    );
    let patch = seed.operation(Method::Patch).unwrap();
    assert_eq!(patch.name(), "更新先享卡订单API");
    assert!(patch.deprecated());
    assert_eq!(patch.consumes(), ["application/json"]);

    let native = find("v3/pay/transactions/native")
        .unwrap()
        .operation(Method::Post)
        .unwrap();
    assert_eq!(native.name(), "Native下单API");
    assert_eq!(
        native.doc_url(),
        Some("https://pay.weixin.qq.com/doc/v3/merchant/4012525171")
    );
    assert!(!native.deprecated());

    let micropay = find("v2/pay/micropay")
        .unwrap()
        .operation(Method::Post)
        .unwrap();
    assert_eq!(micropay.consumes(), ["application/xml"]);
    assert_eq!(micropay.produces(), ["application/xml"]);
    assert!(micropay.is_v2());

    let public_key = find("v2/risk/getpublickey").unwrap().operations()[0];
    assert!(public_key.cert_required());
    assert_eq!(
        public_key.base_uri(),
        Some("https://fraud.mch.weixin.qq.com/")
    );
    // Upstream spells this one `x-baseuri`.
    let global = find("v3/global/certificates").unwrap().operations()[0];
    assert_eq!(global.base_uri(), Some("https://apihk.mch.weixin.qq.com/"));

    // 57 operations carry `x-api-cert-required: true`, 6 a host of their own.
    assert_eq!(
        operations().iter().filter(|op| op.cert_required()).count(),
        57
    );
    assert_eq!(
        operations()
            .iter()
            .filter(|op| op.base_uri().is_some())
            .count(),
        6
    );

    // The trailing-slash paths keep their slash, and are found without it too.
    for path in ["v3/applyment4sub/applyment/", "v3/ecommerce/applyments/"] {
        assert_eq!(find(path).unwrap().path(), path);
        assert_eq!(find(path.trim_end_matches('/')).unwrap().path(), path);
    }
    assert_eq!(
        find("hk/v3/transactions/native").unwrap().path(),
        "hk/v3/transactions/native"
    );
    assert_eq!(
        find("global/v3/customs/orders").unwrap().operations().len(),
        3
    );
}

#[test]
fn concrete_paths_and_renamed_placeholders_find_their_entry() {
    let cases = [
        (
            "v3/pay/transactions/id/4200000000",
            "v3/pay/transactions/id/{transaction_id}",
        ),
        (
            "v3/pay/transactions/id/{id}",
            "v3/pay/transactions/id/{transaction_id}",
        ),
        (
            "/v3/pay/transactions/out-trade-no/<no>/",
            "v3/pay/transactions/out-trade-no/{out_trade_no}",
        ),
        (
            "v3/pay/transactions/out-trade-no/1217752501201407033233368018/close",
            "v3/pay/transactions/out-trade-no/{out_trade_no}/close",
        ),
    ];
    for (path, entry) in cases {
        assert_eq!(find(path).map(|e| e.path()), Some(entry), "{path}");
    }
    // A placeholder never stands for a literal segment of the catalogue.
    assert!(find("v3/pay/transactions/{kind}").is_none());
    assert!(find("v3/pay/transactions/native/extra").is_none());
}

#[test]
fn nearest_and_check_name_real_paths() {
    let near = nearest("v3/discount-cards/orders/{out_order_no}", 3);
    assert_eq!(near.len(), 3);
    assert_eq!(near[0], "v3/discount-card/orders/{out_order_no}");

    let err = check("v3/pay/transaction/native", Some(Method::Post)).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("`v3/pay/transaction/native` is not a WeChat Pay API path; nearest: `v3/pay/transactions/native`"), "{text}");

    let err = check("v3/pay/transactions/native", Some(Method::Get)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`v3/pay/transactions/native` has no GET operation; it answers POST"
    );
    assert!(check("v3/pay/transactions/native", None).is_ok());
}

#[test]
fn search_matches_path_fragments_and_names() {
    let hits = search("transactions native");
    let paths: Vec<&str> = hits.iter().map(|op| op.path()).collect();
    assert!(paths.contains(&"v3/pay/transactions/native"));
    assert!(paths.contains(&"hk/v3/transactions/native"));
    assert!(paths
        .iter()
        .all(|p| p.contains("transactions") && p.contains("native")));
    let named = search("先享卡订单");
    assert!(named
        .iter()
        .any(|op| op.path() == "v3/discount-card/orders/{out_order_no}"));
    assert!(search("no-such-thing-anywhere").is_empty());
    assert_eq!(search("").len(), operations().len());
}

#[cfg(feature = "schemas")]
#[test]
fn every_operation_has_its_schema_in_the_same_order() {
    use wechatpay_chain_catalogue::schema::{self, JsonType, Location};

    let all = schema::all().expect("schemas.json parses with the crate's model");
    assert_eq!(all.len(), operations().len());
    let mut misnamed = Vec::new();
    for (op, detail) in operations().iter().zip(all) {
        assert_eq!(
            (op.method(), op.path()),
            (detail.method, detail.path.as_str())
        );
        assert!(std::ptr::eq(schema::of(op).unwrap(), detail));
        for p in detail.path_parameters() {
            if !op.path().contains(&format!("{{{}}}", p.name)) {
                misnamed.push(format!("{op}: {}", p.name));
            }
        }
    }
    // Upstream documents two path parameters under a name its path does not use; the
    // sandbox must not trust path-parameter names blindly. Pinned so a regeneration
    // that fixes or adds one is noticed.
    assert_eq!(
        misnamed,
        [
            "GET v3/global/papay/transactions/out-trade-no/{out_trade_no}: transaction_id",
            "POST v3/offlinefacemch/organizations/{organization_id}/users/user-id/{user_id}/terminate-contract: use_id",
        ]
    );

    // Facts of the seed's PATCH, read off the YAML by hand: `$ref` resolved with its
    // siblings kept, required at depth two.
    let op =
        wechatpay_chain_catalogue::lookup(Method::Patch, "v3/discount-card/orders/{out_order_no}")
            .unwrap();
    let detail = schema::of(op).unwrap();
    let path_param = detail.path_parameters().next().unwrap();
    assert_eq!(
        (path_param.name.as_str(), path_param.required),
        ("out_order_no", true)
    );
    assert_eq!(
        path_param.schema.example,
        Some("233bcbf407e87789b8e471f251774f95".into())
    );
    let body = detail.body.as_ref().unwrap();
    assert!(body.requires("out_order_no"));
    let objective = body.properties["objectives"].items.as_ref().unwrap();
    assert!(objective.requires("performance_type"));
    let performance = &objective.properties["performance_type"];
    assert_eq!(performance.json_type, Some(JsonType::String));
    assert_eq!(performance.example, Some("INCREASE".into()));
    assert!(
        !performance.allowed.is_empty(),
        "the enum came through the $ref"
    );
    let ok = detail.success().unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.schema.as_ref().unwrap().required,
        ["out_order_no", "order_id"]
    );

    // A multipart upload: form-data parts, the meta part's JSON shape kept.
    let media = schema::find(
        Method::Post,
        "v3/ecommerce/account/cancel-applications/media",
    )
    .unwrap();
    let parts: Vec<&str> = media
        .parameters_in(Location::FormData)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(parts, ["file", "meta"]);
    let meta = media.parameters_in(Location::FormData).nth(1).unwrap();
    assert!(meta
        .schema
        .json_string
        .as_ref()
        .unwrap()
        .properties
        .contains_key("file_digest"));

    // APIv2: an XML document with a `maxLength` and an enum.
    let micropay = schema::find(Method::Post, "v2/pay/micropay").unwrap();
    let body = micropay.body.as_ref().unwrap();
    assert_eq!(body.xml.as_ref().unwrap()["name"], "xml");
    assert!(body.requires("auth_code"));
    assert_eq!(body.properties["appid"].max_length, Some(32));
    assert_eq!(body.properties["deposit"].allowed, ["Y", "N"]);
}
