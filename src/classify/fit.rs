//! The fitting behind `boundary-bot train`: logistic-regression heads.
//!
//! Deterministic: rows are split into train and dev by a fixed hash of
//! their id (one in five goes to dev), the optimiser is plain full-batch
//! Adam in a fixed order on one thread, and weights are rounded to four
//! decimals before anything else is computed from them. The same inputs
//! give the same files byte for byte on the same build.
//!
//! The fitting is a few dozen lines of logistic regression written here:
//! the crates that offer it (linfa-logistic, smartcore) bring ndarray or
//! their own matrix types and dense inputs, where these features are
//! sparse and must stay in a fixed order to be reproducible.

use std::collections::BTreeMap;

use super::features::{Feature, FeatureSpace};
use super::model::{sigmoid, softmax};

/// One labelled row with its features.
#[derive(Debug, Clone)]
pub struct Example {
    pub features: Vec<Feature>,
    /// Class index in the head being fitted.
    pub class: usize,
    /// How much the row counts in the loss.
    pub weight: f32,
}

/// Settings of one fit.
#[derive(Debug, Clone, Copy)]
pub struct FitSettings {
    pub epochs: usize,
    pub learning_rate: f32,
    /// L2 penalty on every weight except the bias (feature 0).
    pub l2: f32,
}

impl Default for FitSettings {
    fn default() -> Self {
        Self {
            epochs: 400,
            learning_rate: 0.05,
            l2: 1e-4,
        }
    }
}

/// Fits a linear head: a sigmoid for `classes == 1` (class 1 of the
/// examples is the positive one), else a softmax. Returns the weights,
/// class-major, rounded to four decimals.
pub fn fit(
    examples: &[Example],
    classes: usize,
    features: usize,
    settings: FitSettings,
) -> Vec<f32> {
    let mut w = vec![0f32; classes * features];
    let mut adam = Adam::new(w.len(), settings.learning_rate);
    let n = examples.iter().map(|e| e.weight).sum::<f32>().max(1.0);
    for _ in 0..settings.epochs {
        let mut grad = vec![0f32; w.len()];
        for ex in examples {
            let errors = output_errors(&w, ex, classes, features);
            for (c, e) in errors.iter().enumerate() {
                let row = &mut grad[c * features..(c + 1) * features];
                for f in &ex.features {
                    row[f.index as usize] += e * f.value * ex.weight / n;
                }
            }
        }
        for c in 0..classes {
            for f in 1..features {
                let i = c * features + f;
                grad[i] += settings.l2 * w[i];
            }
        }
        adam.step(&mut w, &grad);
    }
    w.iter().map(|x| round4(*x)).collect()
}

/// d(loss)/d(logit) for each class of one example.
fn output_errors(w: &[f32], ex: &Example, classes: usize, features: usize) -> Vec<f32> {
    let logits: Vec<f32> = (0..classes)
        .map(|c| {
            let row = &w[c * features..(c + 1) * features];
            ex.features
                .iter()
                .map(|f| row[f.index as usize] * f.value)
                .sum()
        })
        .collect();
    if classes == 1 {
        let target = if ex.class == 1 { 1.0 } else { 0.0 };
        return vec![sigmoid(logits[0]) - target];
    }
    let mut p = softmax(&logits);
    p[ex.class] -= 1.0;
    p
}

pub fn round4(x: f32) -> f32 {
    (x * 10_000.0).round() / 10_000.0
}

/// The Adam optimiser's state.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
    rate: f32,
}

impl Adam {
    fn new(len: usize, rate: f32) -> Self {
        Self {
            m: vec![0.0; len],
            v: vec![0.0; len],
            t: 0,
            rate,
        }
    }

    fn step(&mut self, w: &mut [f32], grad: &[f32]) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        for i in 0..w.len() {
            self.m[i] = B1 * self.m[i] + (1.0 - B1) * grad[i];
            self.v[i] = B2 * self.v[i] + (1.0 - B2) * grad[i] * grad[i];
            w[i] -= self.rate * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8);
        }
    }
}

/// Whether a row id goes to the dev split: FNV-1a of the id, one in five.
pub fn is_dev(id: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h.is_multiple_of(5)
}

/// Word stems that occur in at least `min_rows` of `rows`, sorted.
pub fn frequent_stems<'a>(
    rows: impl Iterator<Item = &'a std::collections::BTreeSet<String>>,
    min_rows: usize,
) -> Vec<String> {
    let mut df: BTreeMap<&str, usize> = BTreeMap::new();
    for stems in rows {
        for s in stems {
            *df.entry(s.as_str()).or_default() += 1;
        }
    }
    df.into_iter()
        .filter(|(s, n)| *n >= min_rows && s.chars().all(|c| c.is_alphanumeric()))
        .map(|(s, _)| s.to_string())
        .collect()
}

/// The temperature (from a fixed grid) that minimises the dev set's
/// negative log-likelihood for a head with these logits.
pub fn fit_temperature(logits: &[Vec<f32>], classes: &[usize], binary: bool) -> f32 {
    let nll = |t: f32| -> f64 {
        logits
            .iter()
            .zip(classes)
            .map(|(l, &c)| {
                let p = if binary {
                    let p1 = sigmoid(l[0] / t);
                    if c == 1 {
                        p1
                    } else {
                        1.0 - p1
                    }
                } else {
                    let scaled: Vec<f32> = l.iter().map(|x| x / t).collect();
                    softmax(&scaled)[c]
                };
                -f64::from(p.max(1e-7)).ln()
            })
            .sum()
    };
    let grid = (10..=60).map(|i| i as f32 / 20.0);
    grid.min_by(|a, b| nll(*a).total_cmp(&nll(*b)))
        .unwrap_or(1.0)
}

/// Keeps only the features of `space` a stage may use.
pub fn mask(
    features: &[Feature],
    space: &FeatureSpace,
    keep: impl Fn(&str) -> bool,
) -> Vec<Feature> {
    features
        .iter()
        .copied()
        .filter(|f| keep(&space.names()[f.index as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(pairs: &[(u32, f32)], class: usize) -> Example {
        Example {
            features: pairs
                .iter()
                .map(|&(index, value)| Feature { index, value })
                .collect(),
            class,
            weight: 1.0,
        }
    }

    #[test]
    fn a_sigmoid_head_learns_a_separable_feature() {
        let data = [
            ex(&[(0, 1.0), (1, 1.0)], 1),
            ex(&[(0, 1.0)], 0),
            ex(&[(0, 1.0), (1, 1.0)], 1),
            ex(&[(0, 1.0)], 0),
        ];
        let w = fit(&data, 1, 2, FitSettings::default());
        assert!(sigmoid(w[0] + w[1]) > 0.8 && sigmoid(w[0]) < 0.2, "{w:?}");
    }

    #[test]
    fn fitting_is_deterministic_and_rounded() {
        let data = [
            ex(&[(0, 1.0), (1, 0.5)], 0),
            ex(&[(0, 1.0), (2, 0.7)], 1),
            ex(&[(0, 1.0), (3, 1.0)], 2),
        ];
        let a = fit(&data, 3, 4, FitSettings::default());
        let b = fit(&data, 3, 4, FitSettings::default());
        assert_eq!(a, b);
        assert!(
            a.iter()
                .all(|w| (w * 10_000.0 - (w * 10_000.0).round()).abs() < 1e-2),
            "{a:?}"
        );
    }

    #[test]
    fn the_dev_split_is_stable_and_about_a_fifth() {
        let dev = (0..1000).filter(|i| is_dev(&format!("row-{i}"))).count();
        assert!((150..250).contains(&dev), "{dev}");
        assert_eq!(is_dev("row-1"), is_dev("row-1"));
    }

    #[test]
    fn temperature_sharpens_underconfident_logits() {
        let logits: Vec<Vec<f32>> = (0..50).map(|_| vec![0.5]).collect();
        let classes = vec![1; 50];
        assert!(fit_temperature(&logits, &classes, true) < 1.0);
    }
}
