//! The source's own shape: dependencies run one way, between files as between modules.
//!
//! Each file of `src/` is a module (`a/b.rs` or `a/b/mod.rs` is `a::b`); one depends on another
//! where it names it: a `use` tree, a `crate::`, `super::` or `self::` path, or, in a `mod.rs`,
//! a path into one of its own children. A `mod.rs`'s `pub use` of its children is structure
//! (the module's table of contents), not a dependency; test modules are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every file under `dir`, by module path.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).unwrap().with_extension("");
                let mut module: Module = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    module.pop();
                }
                found.insert(module, path);
            }
        }
    }
    found
}

/// The text a file's dependencies are read from: comments, tests and a `mod.rs`'s re-exports
/// taken out.
fn dependency_text(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod tests") {
        Some(tests) => &source[..tests],
        None => source,
    };
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(comment) => &line[..comment],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
        .split(';')
        .filter(|statement| {
            let statement = statement.trim_start();
            !(statement.starts_with("pub use") || statement.starts_with("pub(crate) use"))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The paths a `use` tree names: `a::{b, c::{d, e}}` gives `a::b`, `a::c::d`, `a::c::e`.
fn use_paths(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or_default().to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len() - 1];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(use_paths)
        .map(|p| format!("{prefix}{p}"))
        .collect()
}

/// Every `a::b::c` path in `text` (a use tree's paths expanded).
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for statement in text.split(';') {
        if let Some(tree) = statement.trim_start().strip_prefix("use ") {
            found.extend(use_paths(tree));
        }
    }
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let starts_path =
            word(bytes[i]) && (i == 0 || !(word(bytes[i - 1]) || bytes[i - 1] == b':'));
        if !starts_path {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < bytes.len() && (word(bytes[end]) || text[end..].starts_with("::")) {
            end += if word(bytes[end]) { 1 } else { 2 };
        }
        let path = text[i..end].trim_end_matches(':');
        if path.contains("::") {
            found.push(path.to_string());
        }
        i = end.max(i + 1);
    }
    found
        .into_iter()
        .map(|p| p.split("::").map(str::to_string).collect())
        .collect()
}

/// The module a path names, from `module` (a `mod.rs` when `is_dir`): the longest prefix that
/// is a file of the crate.
fn target(
    module: &Module,
    is_dir: bool,
    path: &[String],
    files: &BTreeMap<Module, PathBuf>,
) -> Option<Module> {
    let (mut base, rest): (Module, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (module.clone(), &path[1..]),
        "super" => {
            let mut base = module.clone();
            let mut rest = path;
            while rest.first().is_some_and(|p| p == "super") {
                base.pop();
                rest = &rest[1..];
            }
            (base, rest)
        }
        child if is_dir && files.contains_key(&[module.clone(), vec![child.into()]].concat()) => {
            (module.clone(), path)
        }
        _ => return None,
    };
    base.extend(rest.iter().cloned());
    while !base.is_empty() && !files.contains_key(&base) {
        base.pop();
    }
    (!base.is_empty() && &base != module).then_some(base)
}

/// The strongly connected groups of more than one module (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Search<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in &self.edges[v] {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    self.low.insert(v, self.low[v].min(self.low[w]));
                } else if self.stack.contains(&w) {
                    self.low.insert(v, self.low[v].min(self.index[w]));
                }
            }
            if self.low[v] == self.index[v] {
                let at = self.stack.iter().position(|m| *m == v).unwrap();
                let group: Vec<Module> = self.stack.drain(at..).cloned().collect();
                if group.len() > 1 {
                    self.found.push(group);
                }
            }
        }
    }
    let mut search = Search {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !search.index.contains_key(v) {
            search.visit(v);
        }
    }
    search.found
}

fn dependencies(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let files = modules(src);
    files
        .iter()
        .map(|(module, path)| {
            let is_dir = path.file_stem().is_some_and(|s| s == "mod" || s == "lib");
            let text = dependency_text(&std::fs::read_to_string(path).unwrap());
            let targets = paths(&text)
                .iter()
                .filter_map(|p| target(module, is_dir, p, &files))
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

#[test]
fn no_file_of_the_source_imports_one_that_imports_it_back() {
    // The application, and each crate of the workspace on its own.
    for (src, at_least) in [("src", 50), ("crates/model/src", 15), ("crates/web/src", 1)] {
        assert_no_cycles(Path::new(src), at_least);
    }
}

fn assert_no_cycles(src: &Path, at_least: usize) {
    let edges = dependencies(src);
    assert!(
        edges.len() >= at_least,
        "{}: {} files",
        src.display(),
        edges.len()
    );
    let found: Vec<String> = cycles(&edges)
        .iter()
        .map(|group| {
            let names: Vec<String> = group.iter().map(|m| m.join("::")).collect();
            names.join(" <-> ")
        })
        .collect();
    assert!(
        found.is_empty(),
        "{}: import cycles: {found:?}",
        src.display()
    );
}

/// The check finds the cycles it is there for: between two sibling files, and between a
/// `mod.rs` and a child it calls that imports it back.
#[test]
fn a_cycle_between_files_is_found() {
    let src = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = src.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod model;\npub mod config;\n");
    write("config.rs", "pub struct Config;\n");
    write(
        "model/mod.rs",
        "mod a;\nmod b;\npub use a::A;\nuse crate::config::Config;\npub struct Model;\n",
    );
    write("model/a.rs", "use super::b::helper;\npub struct A;\n");
    write(
        "model/b.rs",
        "use super::{a::A, Model};\npub fn helper() {}\n",
    );
    let found = cycles(&dependencies(src.path()));
    assert_eq!(found.len(), 1, "{found:?}");
    let names: BTreeSet<String> = found[0].iter().map(|m| m.join("::")).collect();
    assert_eq!(names, ["model::a", "model::b"].map(String::from).into());

    write(
        "model/mod.rs",
        "mod a;\nmod b;\npub struct Model;\nfn f() { b::helper() }\n",
    );
    let found = cycles(&dependencies(src.path()));
    let names: Vec<BTreeSet<String>> = found
        .iter()
        .map(|g| g.iter().map(|m| m.join("::")).collect())
        .collect();
    assert!(
        names
            .iter()
            .any(|g| g.contains("model") && g.contains("model::b")),
        "{names:?}"
    );
}
