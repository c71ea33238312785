#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Calico selector grammar: a table of expressions × label sets, errors, properties.

use proptest::prelude::*;
use reflector_sim::selector::{Labels, Selector};

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn expression_table() {
    let none = labels(&[]);
    let rr = labels(&[("route-reflector", "true")]);
    let web = labels(&[("app", "web"), ("tier", "frontend"), ("zone", "eu-west-1a")]);
    let db = labels(&[
        ("app", "db"),
        ("tier", "backend"),
        ("k8s.io/role", "storage"),
    ]);
    let sets = [&none, &rr, &web, &db];
    // (expression, expected for none, rr, web, db)
    let table: &[(&str, [bool; 4])] = &[
        ("", [true, true, true, true]),
        ("all()", [true, true, true, true]),
        ("global()", [true, true, true, true]),
        ("has(route-reflector)", [false, true, false, false]),
        ("!has(route-reflector)", [true, false, true, true]),
        ("route-reflector == 'true'", [false, true, false, false]),
        ("route-reflector == \"true\"", [false, true, false, false]),
        ("route-reflector != 'true'", [true, false, true, true]),
        ("app == 'web'", [false, false, true, false]),
        ("app != 'web'", [true, true, false, true]),
        ("app in {'web', 'db'}", [false, false, true, true]),
        ("app in {}", [false, false, false, false]),
        ("app not in {'web'}", [true, true, false, true]),
        ("app not in {}", [true, true, true, true]),
        ("zone contains 'west'", [false, false, true, false]),
        ("zone starts with 'eu-'", [false, false, true, false]),
        ("zone ends with '1a'", [false, false, true, false]),
        ("tier ends with 'end'", [false, false, true, true]),
        ("k8s.io/role == 'storage'", [false, false, false, true]),
        ("has(k8s.io/role)", [false, false, false, true]),
        // precedence: && binds tighter than ||; ! binds tighter than &&
        (
            "has(app) && app == 'web' || has(route-reflector)",
            [false, true, true, false],
        ),
        (
            "has(route-reflector) || has(app) && app == 'db'",
            [false, true, false, true],
        ),
        (
            "(has(route-reflector) || has(app)) && app == 'db'",
            [false, false, false, true],
        ),
        (
            "!has(app) && !has(route-reflector)",
            [true, false, false, false],
        ),
        (
            "!(has(app) || has(route-reflector))",
            [true, false, false, false],
        ),
        ("!has(app) || tier == 'backend'", [true, true, false, true]),
        ("!!has(app)", [false, false, true, true]),
        (
            "  app=='web'&&tier=='frontend'  ",
            [false, false, true, false],
        ),
        ("all() && !has(route-reflector)", [true, false, true, true]),
    ];
    for (expr, expected) in table {
        let sel = Selector::parse(expr).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
        for (set, want) in sets.iter().zip(expected) {
            assert_eq!(sel.matches(set), *want, "{expr:?} on {set:?}");
        }
        // The canonical form means the same thing.
        let again = Selector::parse(&sel.to_string()).unwrap();
        assert_eq!(again, sel, "{expr:?} printed as {sel}");
    }
}

#[test]
fn parse_errors_give_the_column() {
    let cases: &[(&str, usize)] = &[
        ("has(", 5),
        ("has(a", 6),
        ("a = 'b'", 3),
        ("a == b", 6),
        ("a == 'b", 6),
        ("has(a) &&", 10),
        ("has(a) has(b)", 8),
        ("a in {'x' 'y'}", 11),
        ("a not {'x'}", 7),
        ("a starts 'x'", 10),
        ("(has(a)", 8),
        ("&& has(a)", 1),
    ];
    for (expr, col) in cases {
        let e = Selector::parse(expr).expect_err(expr);
        assert_eq!(e.column, *col, "{expr:?}: {e}");
    }
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("route-reflector".to_string()),
        Just("k8s.io/x".to_string())
    ]
}

fn val() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("".to_string()),
        Just("x".to_string()),
        Just("true".to_string()),
        Just("xy".to_string()),
        Just("it's".to_string())
    ]
}

fn selector() -> impl Strategy<Value = Selector> {
    let leaf = prop_oneof![
        Just(Selector::All),
        Just(Selector::Global),
        key().prop_map(Selector::Has),
        (key(), val()).prop_map(|(k, v)| Selector::Eq(k, v)),
        (key(), val()).prop_map(|(k, v)| Selector::Ne(k, v)),
        (key(), prop::collection::vec(val(), 0..3)).prop_map(|(k, v)| Selector::In(k, v)),
        (key(), prop::collection::vec(val(), 0..3)).prop_map(|(k, v)| Selector::NotIn(k, v)),
        (key(), val()).prop_map(|(k, v)| Selector::Contains(k, v)),
        (key(), val()).prop_map(|(k, v)| Selector::StartsWith(k, v)),
        (key(), val()).prop_map(|(k, v)| Selector::EndsWith(k, v)),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Selector::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Selector::And),
            prop::collection::vec(inner, 2..4).prop_map(Selector::Or),
        ]
    })
}

fn label_set() -> impl Strategy<Value = Labels> {
    prop::collection::btree_map(key(), val(), 0..4)
}

proptest! {
    #[test]
    fn negation_is_not(sel in selector(), l in label_set()) {
        let text = sel.to_string();
        let parsed = Selector::parse(&text).unwrap();
        prop_assert_eq!(parsed.matches(&l), sel.matches(&l));
        let negated = Selector::parse(&format!("!({text})")).unwrap();
        prop_assert_eq!(negated.matches(&l), !sel.matches(&l));
    }

    #[test]
    fn random_text_never_panics(text in "[a-z()!&|=' {},.\"-]{0,40}", l in label_set()) {
        if let Ok(sel) = Selector::parse(&text) {
            let _ = sel.matches(&l);
        }
    }
}
