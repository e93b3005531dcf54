//! Release-profile trials: every variant's build (`artifacts::VARIANTS`) started cold like the
//! main build, all variants in one round-robin pass (`cold::rounds`), so the profiles are
//! compared under the same noise. Zip and binary sizes come with each build.

use std::collections::BTreeMap;
use std::path::Path;

use crate::artifacts::{self, Build};
use crate::error::Result;
use crate::fixtures::Function;
use crate::measure::{ColdSample, Harness, Target};
use crate::progress::say;
use crate::results::Trial;
use crate::stats::round;

use super::cold;

/// One trial per build (none for no builds), `runs` cold starts per function and build.
pub async fn measure(
    h: &Harness<'_>,
    runs: usize,
    builds: &[Build],
    workspace: &Path,
) -> Result<Vec<Trial>> {
    if builds.is_empty() {
        return Ok(vec![]);
    }
    let runs = runs.max(1);
    let manifest_panic = artifacts::manifest_panic(workspace);
    let mut targets = vec![];
    for b in builds {
        for f in Function::ALL {
            targets.push(Target::rust(
                &format!("{}.{}", b.variant.name, f.binary()),
                f,
                b.binary(f)?,
            ));
        }
    }
    say(format!(
        "profile trials: {} runs x {} targets (plus one warm-up round)",
        runs,
        targets.len()
    ));
    let done = cold::rounds(h, &targets, runs).await?;
    let n = Function::ALL.len();
    Ok(builds
        .iter()
        .zip(targets.chunks(n).zip(done.samples.chunks(n)))
        .map(|(b, (t, s))| trial(b, t, s, manifest_panic.as_deref()))
        .collect())
}

fn trial(
    b: &Build,
    targets: &[Target],
    samples: &[Vec<ColdSample>],
    manifest_panic: Option<&str>,
) -> Trial {
    let mut init = BTreeMap::new();
    let mut first = BTreeMap::new();
    let mut rss = BTreeMap::new();
    for (t, s) in targets.iter().zip(samples) {
        let sum = cold::summarize(s);
        let name = t.function.binary().to_owned();
        init.insert(name.clone(), sum.init_ms_median);
        first.insert(name.clone(), sum.first_invocation_ms_median);
        rss.insert(name, sum.rss_mb_max);
    }
    let zip_mean = b.zip_bytes.values().sum::<u64>() as f64 / b.zip_bytes.len().max(1) as f64;
    let init_mean = init.values().sum::<f64>() / init.len().max(1) as f64;
    Trial {
        name: b.variant.name.into(),
        description: b.variant.description.into(),
        build_seconds: round(b.build_seconds, 1),
        zip_bytes: b.zip_bytes.clone(),
        binary_bytes: b.binary_bytes.clone(),
        init_ms_median: init,
        first_invocation_ms_median: first,
        rss_mb: rss,
        zip_bytes_mean: round(zip_mean, 0),
        init_ms_median_mean: round(init_mean, 3),
        panic_abort: b.variant.panic_abort(manifest_panic),
    }
}
