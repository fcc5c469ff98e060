//! The gate: the one path a tool call takes to run, and the one path a decision takes to let
//! it run. It sits above the parts it joins, which know nothing of it or of each other's
//! callers:
//!
//! - `tools`: the catalog, preparing a call (schema, canonical hash), describing what it would
//!   affect, executing it with its audit events;
//! - `approvals`: requests, decisions, standing grants and who may decide (the rules), stored;
//! - `gate` (here): the policy's verdict with grants, filing a request, deciding and executing
//!   an approved call exactly once.
//!
//! The agent runtime proposes through the gate and resumes through it. Imports go one way:
//! `tools` ← `approvals` ← `gate` ← `runtime` (the `layering` test checks it).

mod execute;
mod filing;
mod propose;

#[cfg(test)]
mod layering {
    //! The layers as a test: a lower module neither imports a higher one nor calls a method a
    //! higher one defines on `Instance` (the methods hide the dependency from the imports, so
    //! this looks for the calls too).
    use std::path::Path;

    const LAYERS: [&str; 4] = ["tools", "approvals", "gate", "runtime"];

    fn sources(module: &str) -> Vec<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(module);
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the module's directory") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                // Comments may name anything.
                let code: String = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                out.push((path.display().to_string(), code));
            }
        }
        out
    }

    /// Every module directory of the crate.
    fn crate_modules() -> Vec<String> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        std::fs::read_dir(src)
            .expect("src")
            .filter_map(|e| {
                let path = e.ok()?.path();
                path.is_dir()
                    .then(|| path.file_name()?.to_str().map(str::to_string))
                    .flatten()
            })
            .collect()
    }

    /// The names of the methods a module defines on `Instance` (in its `impl Instance` blocks).
    fn defined(module: &str) -> Vec<String> {
        let mut names = Vec::new();
        for (_, code) in sources(module) {
            for block in code.split("\nimpl Instance {").skip(1) {
                let block = block.split("\n}\n").next().unwrap_or_default();
                for part in block.split("fn ").skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        names.push(name);
                    }
                }
            }
        }
        names
    }

    #[test]
    fn lower_layers_neither_import_nor_call_higher_ones() {
        for (low, module) in LAYERS.iter().enumerate() {
            for higher in &LAYERS[low + 1..] {
                // Names also defined outside `higher` (`as_str`, `new`) say nothing.
                let elsewhere: Vec<String> = crate_modules()
                    .iter()
                    .filter(|m| *m != higher)
                    .flat_map(|m| defined(m))
                    .collect();
                let theirs: Vec<String> = defined(higher)
                    .into_iter()
                    .filter(|n| !elsewhere.contains(n))
                    .collect();
                assert!(!theirs.is_empty() || *higher == "runtime" || *higher == "gate");
                for (file, code) in sources(module) {
                    assert!(
                        !code.contains(&format!("crate::{higher}")),
                        "{file} imports crate::{higher}, a higher layer"
                    );
                    for name in &theirs {
                        assert!(
                            !code.contains(&format!(".{name}(")),
                            "{file} calls `{name}`, which {higher} (a higher layer) defines"
                        );
                    }
                }
            }
        }
    }
}
