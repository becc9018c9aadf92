//! `ba-harness rules`: the rule inventory (rules/*.toml) joined with the scenarios' rule tags.

use super::RulesArgs;
use crate::conform;
use crate::error::{HarnessError, Outcome};

pub(super) fn run(args: RulesArgs) -> Result<Outcome, HarnessError> {
    let features = match args.features {
        Some(dir) => dir,
        None => conform::default_features_dir()?,
    };
    let loaded;
    let inventory = match args
        .rules
        .or_else(|| crate::rules::default_rules_dir(&features))
    {
        Some(dir) => {
            loaded = crate::rules::load_dir(&dir)?;
            &loaded
        }
        None => crate::rules::embedded(),
    };
    let scenarios = crate::rules::load_scenarios(&features)?;
    let coverage = crate::rules::coverage(inventory, &scenarios);
    if args.json {
        let mut value = serde_json::to_value(&coverage).expect("the coverage serialises");
        if args.missing {
            value["rules"] = serde_json::Value::Array(
                coverage
                    .missing()
                    .map(|r| serde_json::to_value(r).expect("a rule serialises"))
                    .collect(),
            );
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&value).expect("JSON serialises")
        );
    } else {
        print!("{}", crate::rules::render(&coverage, args.missing));
    }
    Ok(Outcome::Passed)
}
