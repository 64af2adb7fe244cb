//! Layer norm, Post-/Pre-norm and branch scales: the demos' figures and the flags' refusals.

use super::common;

use gradtutor::Settings;
use gradtutor::find_experiment;
use predicates::prelude::*;

const GIB: u64 = 1 << 30;

#[test]
fn post_ln_drifts_an_order_of_magnitude_further_than_pre_ln_at_depth_48() {
    let r = find_experiment("layernorm")
        .unwrap()
        .run(&Settings::default(), GIB)
        .unwrap();
    let [post, pre] = r.runs.as_slice() else {
        panic!("two main runs");
    };
    assert_eq!(post.config.depth(), 48);
    let (po, pr) = (post.grad_orders().unwrap(), pre.grad_orders().unwrap());
    // ReLU + He at depth 48, seed 42: Post-LN 48× (+1.69 orders), Pre-LN 1.43× (+0.15).
    assert!((1.6..1.8).contains(&po), "post-LN {po}");
    assert!((0.1..0.2).contains(&pr), "pre-LN {pr}");
    assert!(po.abs() - pr.abs() >= 1.0);
    // The final norm and every block's γ, β: 2·128 per block, 2·128 at the top.
    assert_eq!(
        pre.config.spec.parameters(),
        post.config.spec.parameters() + 256
    );
    // Layer norm never looks at the other examples; batch norm at batch 2 does, a lot.
    let table = &r.tables[0];
    let change = |label: &str| {
        let row = table.rows.iter().find(|row| row[0] == label).unwrap();
        row[3].trim_end_matches('%').parse::<f64>().unwrap()
    };
    assert_eq!(change("LN batch 2"), 0.0);
    assert_eq!(change("LN batch 64"), 0.0);
    assert!(change("BN batch 2") > 100.0);
    assert!(change("BN batch 2") > change("BN batch 64"));
}

#[test]
fn skipinit_shows_three_branch_scales_and_trains_them() {
    let r = find_experiment("skipinit")
        .unwrap()
        .run(&Settings::default(), GIB)
        .unwrap();
    let labels: Vec<&str> = r.runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["α=1", "α=1/√L", "α=0"]);
    let scale = |i: usize| r.runs[i].layers()[0].figures.branch_scale.unwrap();
    assert_eq!(scale(0), 1.0);
    assert!((scale(1) - 1.0 / 48f64.sqrt()).abs() < 1e-7);
    assert_eq!(scale(2), 0.0);
    // α = 0: every hidden W gets exactly 0 and every α a non-zero gradient; the output
    // layer sees the input itself, a_L = x.
    let zero = &r.runs[2];
    let hidden = &zero.layers()[..48];
    assert!(hidden.iter().all(|l| l.figures.grad_norm == 0.0));
    assert!(hidden.iter().all(|l| l.figures.branch_grad.unwrap() != 0.0));
    assert!(zero.layers()[47].figures.act_std > 0.9 && zero.layers()[47].figures.act_std < 1.1);
    // α = 1 blows the activations up; 1/√L keeps them within a factor of ten.
    let last_std = |i: usize| r.runs[i].layers()[47].figures.act_std;
    assert!(last_std(0) > 1e8, "{}", last_std(0));
    assert!(last_std(1) < 10.0, "{}", last_std(1));
    // The training table: α = 1 diverges, the learned α moves away from 0.
    let train = r.tables.last().unwrap();
    assert!(train.title.starts_with("Training: 300 steps"));
    assert!(
        train.rows[0][2].starts_with("diverged"),
        "{:?}",
        train.rows[0]
    );
    assert_eq!(train.rows[1][5], "fixed");
    assert_ne!(train.rows[2][5], "fixed");
}

#[test]
fn contradictory_norm_and_residual_flags_are_refused() {
    let refuse = |args: &[&str], says: &str| {
        common::gradtutor("normalization")
            .args(["demo", "vanishing", "--depth", "4"])
            .args(args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(says.to_string()));
    };
    refuse(&["--bn", "--norm", "layer"], "contradicts --norm layer");
    refuse(
        &["--bn", "false", "--norm", "batch"],
        "contradicts --norm batch",
    );
    refuse(&["--residual", "post"], "add --norm layer or --norm batch");
    refuse(&["--residual", "pre", "--norm", "none"], "there is no norm");
    refuse(&["--branch-scale", "0.5"], "add --residual");
    refuse(&["--residual", "sideways"], "use true, false, post or pre");
    refuse(&["--residual", "--branch-scale", "inf"], "finite number");
    refuse(&["--norm", "group"], "--norm");
    common::gradtutor("normalization")
        .args(["demo", "layernorm", "--norm", "batch"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("demo layernorm sets"));
}

#[test]
fn the_new_flags_run_and_name_the_network() {
    let text = common::stdout(
        common::gradtutor("normalization")
            .args(["demo", "vanishing", "--depth", "3", "--activation", "relu"])
            .args([
                "--norm",
                "layer",
                "--residual",
                "pre",
                "--branch-scale",
                "0",
            ]),
    );
    // The settings header breaks between its parts at 80 columns, continuing two in.
    let header = text.replace("\n  ", " · ");
    assert!(header.contains("layer norm · pre-norm residual · branch α learned from 0"));
    assert!(text.contains("exactly 0 (branch α = 0)"));
    assert!(
        !text.contains("(underflow)") && !text.contains("f32 underflow"),
        "{text}"
    );
    assert!(text.contains("not by underflow"), "{text}");
    let json = common::gradtutor("normalization")
        .args(["demo", "vanishing", "--depth", "3", "--json"])
        .args([
            "--norm",
            "layer",
            "--residual",
            "post",
            "--branch-scale",
            "0.5",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let cfg = &v["runs"][0]["config"];
    assert_eq!(cfg["layer_norm"], true);
    assert_eq!(cfg["norm_placement"], "post");
    assert_eq!(cfg["branch_scale"], 0.5);
    assert_eq!(v["runs"][0]["layers"][0]["branch_scale"], 0.5);
    assert!(v["runs"][0]["layers"][0].get("branch_grad").is_none());
    // Without the flags, none of the new fields appear.
    let plain = common::stdout(common::gradtutor("normalization").args([
        "demo",
        "vanishing",
        "--depth",
        "3",
        "--json",
    ]));
    for field in [
        "layer_norm",
        "norm_placement",
        "branch_scale",
        "branch_grad",
    ] {
        assert!(!plain.contains(field), "{field}");
    }
}

#[test]
fn train_learns_the_branch_scale_and_reports_its_gradient() {
    let out = common::gradtutor("normalization")
        .args(["train", "--json", "--steps", "20", "--depth", "4"])
        .args(["--compare", "relu+residual+scale:0,tanh+ln+pre"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let run = &v["runs"][0];
    assert_eq!(run["label"], "relu/he-normal+residual+scale:0");
    let last = run["checkpoints"].as_array().unwrap().last().unwrap();
    let alphas = last["branch_scales"].as_array().unwrap();
    // The first layer changes the width (2 → 32): no skip, no α; the other three have one.
    assert_eq!(alphas.len(), 3);
    assert!(alphas.iter().all(|a| a.as_f64().unwrap() != 0.0));
    assert_eq!(last["branch_grads"].as_array().unwrap().len(), 3);
    assert_eq!(v["runs"][1]["label"], "tanh/xavier-normal+ln+pre");
    assert!(
        v["runs"][1]["checkpoints"][0]
            .get("branch_scales")
            .is_none()
    );
}
