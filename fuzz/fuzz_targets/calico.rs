//! Calico resources: arbitrary text as a YAML stream of resources and as a
//! label selector. Parsing never panics; a selector that parses prints to a
//! text that parses again to a selector matching the same label sets.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use reflector_sim::resources::Cluster;
use reflector_sim::selector::Selector;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.len() > 1 << 14 {
        return;
    }
    let _ = Cluster::from_yaml_str_named(text, "fuzz");
    if let Ok(sel) = Selector::parse(text) {
        let again = Selector::parse(&sel.to_string()).expect("a printed selector parses");
        let sets: [&[(&str, &str)]; 4] = [
            &[],
            &[("role", "rr")],
            &[("role", "worker"), ("zone", "a")],
            &[("kubernetes.io/hostname", "node-1"), ("role", "rr"), ("x", "")],
        ];
        for set in sets {
            let labels: BTreeMap<String, String> =
                set.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            assert_eq!(sel.matches(&labels), again.matches(&labels), "{text:?} vs {sel}");
        }
    }
});
