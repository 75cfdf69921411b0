//! The app the `stacks` crate defines, and the stacks a command acts on: selected by construct id or stack name,
//! with `*` and `?` globs, as `cdk deploy` selects them; the pattern's stack when none is named.
//!
//! Selectors match the app's own stacks. The bootstrap stack is not selected: `up` deploys it before any
//! selection, `synth` and `diff` show it beside the selection, and only `down --all` deletes it.

use stacks::{App, AssetManifest, AssetSpec, CloudAssembly, Stack, StackKind};

use crate::error::{DeployerError, Result};

/// The app and the stacks a command acts on.
pub(crate) struct Selection {
    app: App,
    /// Indexes into the app's stacks, in the app's order.
    chosen: Vec<usize>,
}

impl Selection {
    /// The stacks of `app` that `selectors` name (ids or names, globs allowed); the one with construct id
    /// `default` when there are none. A selector that matches no stack is an error listing the stacks.
    pub(crate) fn new(app: App, selectors: &[String], default: &str) -> Result<Self> {
        let defaults = [default.to_owned()];
        let selectors = if selectors.is_empty() { &defaults[..] } else { selectors };
        let mut chosen = Vec::new();
        for selector in selectors {
            let found: Vec<usize> = app
                .stacks()
                .iter()
                .enumerate()
                .filter(|(_, s)| s.kind() == StackKind::App)
                .filter(|(_, s)| glob(selector, s.id()) || glob(selector, s.name()))
                .map(|(index, _)| index)
                .collect();
            if found.is_empty() {
                return Err(unknown_stack(&app, selector));
            }
            chosen.extend(found);
        }
        chosen.sort_unstable();
        chosen.dedup();
        Ok(Self { app, chosen })
    }

    /// Every app stack of `app`.
    pub(crate) fn all(app: App) -> Self {
        let chosen = app.stacks().iter().enumerate().filter(|(_, s)| s.kind() == StackKind::App).map(|(i, _)| i);
        let chosen = chosen.collect();
        Self { app, chosen }
    }

    /// The one stack `selector` names (the `default` construct id when `None`): an error when it names none or
    /// several.
    pub(crate) fn one(app: App, selector: Option<&str>, default: &str) -> Result<Self> {
        let selectors: Vec<String> = selector.map(str::to_owned).into_iter().collect();
        let selection = Self::new(app, &selectors, default)?;
        if selection.chosen.len() > 1 {
            let names: Vec<&str> = selection.stacks().map(Stack::name).collect();
            return Err(DeployerError::NotFound {
                what: format!("`{}` names {} stacks", selector.unwrap_or(default), names.len()),
                remedy: format!("name one of them with `--stack`: {}", names.join(", ")),
                source: None,
            });
        }
        Ok(selection)
    }

    /// The selected stacks, in the app's order.
    pub(crate) fn stacks(&self) -> impl Iterator<Item = &Stack> {
        self.chosen.iter().filter_map(|index| self.app.stacks().get(*index))
    }

    /// The first selected stack (the only one, for [`Selection::one`]).
    pub(crate) fn first(&self) -> Option<&Stack> {
        self.stacks().next()
    }

    /// The app's bootstrap stack.
    pub(crate) fn bootstrap(&self) -> Option<&Stack> {
        self.app.stacks().iter().find(|s| s.kind() == StackKind::Bootstrap)
    }

    /// The assets of the selected stacks (the bootstrap stack has none), in the stacks' order.
    pub(crate) fn assets(&self) -> Vec<AssetSpec> {
        self.stacks().flat_map(Stack::assets).collect()
    }

    /// The CloudFormation names of the selected stacks.
    pub(crate) fn names(&self) -> Vec<String> {
        self.stacks().map(|s| s.name().to_owned()).collect()
    }

    /// Synthesizes the selected stacks with placeholder asset names: enough to read their functions, aliases and
    /// outputs, which never depend on the assets, without fingerprinting anything.
    pub(crate) fn synth_for_names(&self) -> Result<CloudAssembly> {
        let mut manifest = AssetManifest::new();
        for asset in self.assets() {
            manifest.insert(asset.id, "0".repeat(64));
        }
        self.synth(&manifest)
    }

    /// Synthesizes the bootstrap stack and the selected stacks, in that order, against `assets`.
    pub(crate) fn synth(&self, assets: &AssetManifest) -> Result<CloudAssembly> {
        let stacks = self.bootstrap().into_iter().chain(self.stacks()).map(|s| s.synth(assets));
        Ok(CloudAssembly { stacks: stacks.collect::<Result<Vec<_>, _>>()? })
    }
}

/// The error for a selector that names no stack: the app's stacks, and how to name them.
fn unknown_stack(app: &App, selector: &str) -> DeployerError {
    let listed: Vec<String> = app
        .stacks()
        .iter()
        .filter(|s| s.kind() == StackKind::App)
        .map(|s| if s.id() == s.name() { s.id().to_owned() } else { format!("{} ({})", s.id(), s.name()) })
        .collect();
    let bootstrap = app.stacks().iter().find(|s| s.kind() == StackKind::Bootstrap && glob(selector, s.name()));
    let remedy = match bootstrap {
        Some(stack) => format!(
            "{} is the bootstrap stack: `up` deploys it before any stack, and `down --all` deletes it",
            stack.name()
        ),
        None => format!(
            "name stacks by construct id or stack name, `*` and `?` as wildcards (quote them); the app's stacks: {}",
            listed.join(", ")
        ),
    };
    DeployerError::NotFound { what: format!("no stack of the app matches `{selector}`"), remedy, source: None }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters and `?` for one.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matching with one backtrack point: the position after the last `*` seen.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use stacks::AppConfig;

    use super::*;

    fn app() -> App {
        stacks::app::app(&AppConfig::default()).unwrap()
    }

    fn names(selectors: &[&str]) -> Result<Vec<String>> {
        let selectors: Vec<String> = selectors.iter().map(|s| (*s).to_owned()).collect();
        Selection::new(app(), &selectors, stacks::app::DEFAULT_STACK_ID).map(|s| s.names())
    }

    #[test]
    fn globs_match_like_cdk_selectors() {
        assert!(glob("*", "anything") && glob("*", ""));
        assert!(glob("durable-conformance-*", "durable-conformance-wait-for-condition"));
        assert!(glob("Conformance?tep", "ConformanceStep"));
        assert!(glob("*-step", "durable-conformance-step") && glob("a*b*c", "aXXbYc"));
        assert!(!glob("durable-conformance-*", "durable-invoke-lambda"));
        assert!(!glob("Pattern", "Patterns") && !glob("?", "") && !glob("a*c", "abcd"));
    }

    #[test]
    fn stacks_are_selected_by_id_or_name_and_default_to_the_pattern() {
        assert_eq!(names(&[]).unwrap(), ["durable-invoke-lambda"]);
        assert_eq!(names(&["Pattern"]).unwrap(), names(&["durable-invoke-lambda"]).unwrap());
        let conformance = names(&["durable-conformance-*"]).unwrap();
        assert_eq!(conformance.len(), 10);
        assert_eq!(names(&["Conformance*"]).unwrap(), conformance);
        let all = names(&["*"]).unwrap();
        assert_eq!(all.len(), 12, "every app stack, never the bootstrap stack: {all:?}");
        assert_eq!(all[..2], ["durable-invoke-lambda", "durable-toolkit-fixture"], "in the app's order");
        assert_eq!(names(&["ToolkitFixture", "Pattern", "Pattern"]).unwrap(), all[..2], "deduplicated");
    }

    #[test]
    fn a_selector_that_matches_nothing_lists_the_stacks() {
        let error = names(&["Nope*"]).unwrap_err().to_string();
        assert!(error.contains("`Nope*`") && error.contains("Pattern (durable-invoke-lambda)"), "{error}");
        let error = names(&["DurableDeployerToolkit"]).unwrap_err().to_string();
        assert!(error.contains("bootstrap stack") && error.contains("down --all"), "{error}");
        let error = Selection::one(app(), Some("Conformance*"), "Pattern").err().unwrap().to_string();
        assert!(error.contains("names 10 stacks") && error.contains("--stack"), "{error}");
    }

    #[test]
    fn a_renamed_pattern_stack_keeps_its_id() {
        let config = AppConfig { stack_name: "renamed".into(), ..AppConfig::default() };
        let app = stacks::app::app(&config).unwrap();
        let selection = Selection::new(app, &["Pattern".to_owned()], stacks::app::DEFAULT_STACK_ID).unwrap();
        assert_eq!(selection.names(), ["renamed"]);
    }
}
