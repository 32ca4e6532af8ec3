//! A nightly job keeps its history: stable JUnit names, events with a schema, a lateness
//! threshold, reruns of what failed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;

/// A Dada order created first, then three steps a second apart: it lasts at least 2 s.
const TWO_SECONDS: &str = "name: Nightly order\ncarrier: dada\nshop_order_id: nightly-{{run_id}}\norder: true\nrepeat: 2\nsteps:\n  - status: 102\n  - status: 201\n    after: 1s\n  - status: 202\n    after: 1s\n";

fn testcase_names(xml: &str) -> Vec<String> {
    let name = regex::Regex::new(r#"<testcase name="([^"]*)""#).unwrap();
    name.captures_iter(xml).map(|c| c[1].to_owned()).collect()
}

fn attribute(tag: &str, name: &str) -> String {
    let re = regex::Regex::new(&format!(r#" {name}="([^"]*)""#)).unwrap();
    re.captures(tag)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))[1]
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_names_stay_the_same_from_run_to_run_and_suites_take_the_orders_time() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(&dir, "nightly.yaml", TWO_SECONDS);
    let ids = regex::Regex::new(r#"name="shop_order_id" value="([^"]*)""#).unwrap();
    let mut names = Vec::new();
    let mut order_ids = Vec::new();
    for night in 0..2 {
        let junit = dir.path().join(format!("junit-{night}.xml"));
        let run = platform
            .simulate()
            .arg("--report-junit")
            .path(&junit)
            .path(&path)
            .run()
            .await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert_jenkins_schema(&xml);
        let suites: Vec<&str> = xml
            .lines()
            .filter(|l| l.trim_start().starts_with("<testsuite "))
            .collect();
        assert_eq!(suites.len(), 2, "{xml}");
        for suite in suites {
            let time: f64 = attribute(suite, "time").parse().unwrap();
            // The order took two 1 s waits; the sum of the call latencies is milliseconds.
            assert!(
                time >= 2.0,
                "testsuite time {time} < the order's 2 s: {suite}"
            );
            assert!(time <= run.took.as_secs_f64(), "{time} > {:?}", run.took);
            assert_eq!(
                attribute(suite, "hostname"),
                gethostname::gethostname().to_string_lossy(),
                "the machine's name, not the endpoint's"
            );
        }
        order_ids.extend(ids.captures_iter(&xml).map(|c| c[1].to_owned()));
        assert!(
            xml.contains(r#"<property name="waybill_id" value=""#),
            "the waybill is a property: {xml}"
        );
        names.push(testcase_names(&xml));
    }
    assert_eq!(
        names[0],
        [
            "Nightly order #1 / create order",
            "Nightly order #1 / step 1 102 rider_assigned",
            "Nightly order #1 / step 2 201 at_store",
            "Nightly order #1 / step 3 202 picked_up",
            "Nightly order #2 / create order",
            "Nightly order #2 / step 1 102 rider_assigned",
            "Nightly order #2 / step 2 201 at_store",
            "Nightly order #2 / step 3 202 picked_up",
        ]
    );
    assert_eq!(names[0], names[1], "CI tracks tests by name across runs");
    order_ids.sort();
    order_ids.dedup();
    assert_eq!(
        order_ids.len(),
        4,
        "each run has its own order ids, as properties"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn folders_skip_hidden_files_and_folders() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    std::fs::create_dir_all(suite.join(".github/workflows")).unwrap();
    std::fs::write(
        suite.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    )
    .unwrap();
    std::fs::write(suite.join(".draft.yaml"), "carrier: nope\n").unwrap();
    std::fs::copy(scenario("sf_happy_path.yaml"), suite.join("sf.yaml")).unwrap();
    let check = Sim::new().arg("check").path(&suite).run().await;
    assert_eq!(check.code, 0, "{}", check.all_output());
    assert!(
        !check.all_output().contains("ci.yml"),
        "{}",
        check.all_output()
    );
    let run = platform
        .simulate()
        .args(["--speed", "100000"])
        .path(&suite)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.contains("1 scenario, 3 steps"), "{}", run.stdout);
}
