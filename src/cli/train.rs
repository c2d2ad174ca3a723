//! What `boundary-bot train` does and prints: train every weights file the
//! inputs allow, write them (or, with `--check`, compare them byte for byte
//! with the committed ones), and print the comparison of stages (a)–(d) on
//! the dev split, the own test set and counsel-chat.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use boundary_bot::classify::embed::Embedder;
use boundary_bot::classify::lexicon::Lexicon;
use boundary_bot::classify::model::Model;
use boundary_bot::classify::semantic::Semantic;
use boundary_bot::classify::training::{train_all, Inputs, Labelled, Source, Trained};
use boundary_bot::classify::{Classifier, Stage};
use boundary_bot::config::Config;
use boundary_bot::content::Library;
use boundary_bot::eval::{evaluate_with, read_rows, Report, Row};

/// `train`'s options.
pub struct TrainOptions {
    pub shared: PathBuf,
    pub model_dir: Option<PathBuf>,
    pub check: bool,
    pub compare: bool,
    pub embedding_cache: Option<PathBuf>,
}

pub fn train(config: &Config, options: &TrainOptions, out: &mut String) -> anyhow::Result<bool> {
    let library = Library::load(&config.responses_dir)?;
    let lexicon = Lexicon::new(&library);
    let root = config
        .responses_dir
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let inputs = Inputs::standard(&root, options.shared.clone())?;
    let model_dir = options
        .model_dir
        .clone()
        .unwrap_or_else(|| config.classifier.model_dir.clone());
    let embedder =
        if model_dir.is_dir() {
            Some(Embedder::load(&model_dir).with_context(|| {
                format!("{}: cannot load the embedding model", model_dir.display())
            })?)
        } else {
            writeln!(
                out,
                "no model folder at {}: training the lexicon weights only",
                model_dir.display()
            )?;
            None
        };
    let (trained, rows) = train_all(
        &library,
        &lexicon,
        &inputs,
        embedder.as_ref(),
        options.embedding_cache.as_deref(),
    )?;
    let same = write_or_check(&library.dir, &trained, options.check, out)?;
    if options.compare {
        let known = rows
            .iter()
            .filter_map(|r| r.embedding.clone().map(|e| (r.row.text.clone(), e)))
            .collect();
        let classifier =
            comparison_classifier(&library, config, trained, embedder, &model_dir, known)?;
        out.push_str(&comparison(&classifier, &rows, &root)?);
    }
    Ok(same)
}

fn write_or_check(
    responses: &Path,
    trained: &Trained,
    check: bool,
    out: &mut String,
) -> anyhow::Result<bool> {
    let mut same = true;
    for (name, file) in &trained.files {
        let path = responses.join(name);
        let text = file.to_json();
        if check {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            let verdict = if committed == text {
                "identical"
            } else {
                "DIFFERENT"
            };
            same &= committed == text;
            writeln!(
                out,
                "{}: {verdict} to the freshly trained weights",
                path.display()
            )?;
        } else {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, &text)
                .with_context(|| format!("{}: cannot write", path.display()))?;
            writeln!(
                out,
                "wrote {} ({} features)",
                path.display(),
                file.features.len()
            )?;
        }
    }
    Ok(same)
}

fn comparison_classifier(
    library: &Library,
    config: &Config,
    trained: Trained,
    embedder: Option<Embedder>,
    model_dir: &Path,
    known: std::collections::HashMap<String, Vec<f32>>,
) -> anyhow::Result<Classifier> {
    let mut models = trained
        .files
        .into_iter()
        .map(|(name, file)| Model::from_file(Path::new(name), file).map(|m| (name, m)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut take = |name: &str| {
        models
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| models.remove(i).1)
    };
    let Some(learned) = take(boundary_bot::classify::LEARNED_WEIGHTS) else {
        bail!("training wrote no lexicon weights");
    };
    let semantic = match (embedder, take(boundary_bot::classify::HYBRID_WEIGHTS)) {
        (Some(e), Some(hybrid)) => Some(Semantic::from_parts(
            e,
            hybrid,
            take(boundary_bot::classify::EMBEDDING_WEIGHTS),
            model_dir,
            known,
        )),
        _ => None,
    };
    Ok(Classifier::from_models(
        library,
        &config.classifier,
        learned,
        semantic,
    ))
}

/// The markdown table of every stage on every set.
fn comparison(classifier: &Classifier, rows: &[Labelled], root: &Path) -> anyhow::Result<String> {
    let mut sets: Vec<(String, Vec<Row>)> = Vec::new();
    for source in [Source::RealCrisis, Source::RealBoundary, Source::Own] {
        let dev: Vec<Row> = rows
            .iter()
            .filter(|r| r.dev && r.source == source)
            .map(|r| r.row.clone())
            .collect();
        sets.push((format!("dev: {}", source.name()), dev));
    }
    let mut own_test = read_rows(&root.join("tests/fixtures/messages.jsonl"))?;
    own_test.extend(read_rows(&root.join("tests/fixtures/new-topics.jsonl")).unwrap_or_default());
    sets.push(("own test set (messages + new-topics)".into(), own_test));
    let counsel = root.join("../shared/eval/counsel-chat.jsonl");
    if counsel.exists() {
        sets.push(("counsel-chat".into(), read_rows(&counsel)?));
    }
    let mut stages = vec![Stage::Rules, Stage::Learned];
    if classifier.semantic().is_some() {
        stages.extend([Stage::Embedding, Stage::Hybrid]);
    }
    let mut table = String::from(
        "\n| set | stage | rows | accuracy | topic_accuracy | none_false_reply | crisis_recall | crisis_false_alarm | watch_recall | ECE |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (name, set) in &sets {
        for &stage in &stages {
            let r = evaluate_with(set, |t| classifier.run(t, stage).classification);
            table.push_str(&row(name, stage, &r));
        }
    }
    if classifier.semantic().is_some() {
        let dev: Vec<&Labelled> = rows.iter().filter(|r| r.dev).collect();
        let reached = dev
            .iter()
            .filter(|r| classifier.run(&r.row.text, Stage::Hybrid).semantic)
            .count();
        table.push_str(&format!(
            "\nsemantic stage reached by {reached} of {} dev rows ({:.1}%); the first stage decided the rest alone\n",
            dev.len(),
            100.0 * reached as f64 / dev.len().max(1) as f64
        ));
    }
    Ok(table)
}

fn row(set: &str, stage: Stage, r: &Report) -> String {
    let stage = match stage {
        Stage::Rules => "(a) rules",
        Stage::Learned => "(b) learned",
        Stage::Embedding => "(c) embedding",
        Stage::Hybrid | Stage::Default => "(d) hybrid",
    };
    format!(
        "| {set} | {stage} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
        r.rows,
        r.accuracy,
        r.topic_accuracy,
        r.none_false_reply,
        r.crisis_recall,
        r.crisis_false_alarm,
        r.crisis_watch_recall,
        r.expected_calibration_error
    )
}
