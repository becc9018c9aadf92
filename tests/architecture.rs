//! The layout rule of docs/architecture.md: every import points down. This test reads the `use`
//! paths of every module under src/ (`crate::…`, `super::…`, `self::…` and a module's own
//! children), builds the module graph and fails on any cycle, naming the modules in it and one
//! import per edge, so the fix is visible from the failure alone.
//!
//! It is a plain text scan, not a compiler pass: comments and string literals are stripped first,
//! and a path resolves to the deepest module file it names. That is enough for this crate's style
//! (no `#[path]`, no glob re-exports across modules), and it has no dependency to build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module: `crate`, `crate::conform`, `crate::conform::steps::oauth`.
type Module = String;

/// One module's source, with what it declares and where it lives.
struct Source {
    text: String,
    /// `mod x;` / `pub mod x;` children (inline `mod tests { }` blocks excluded).
    children: BTreeSet<String>,
}

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    if stem == "main" {
        return "main".into();
    }
    std::iter::once("crate".to_string())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Source text with comments, string and char literals blanked, so a path in a doc comment or
/// a message is not read as an import.
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map(|n| i + n).unwrap_or(bytes.len());
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map(|n| i + n + 2).unwrap_or(bytes.len());
            i = end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|c| *c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body_start = 1 + hashes + 1;
            let end = rest[body_start..]
                .find(&close)
                .map(|n| i + body_start + n + close.len())
                .unwrap_or(bytes.len());
            out.push_str("\"\"");
            i = end;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                if bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if bytes[i] == b'\''
            && (rest.len() >= 3 && (rest.as_bytes()[2] == b'\'' || rest.as_bytes()[1] == b'\\'))
        {
            // A char literal ('x' or '\n'); lifetimes ('a) have no closing quote near.
            let end = rest[1..]
                .find('\'')
                .map(|n| i + n + 2)
                .unwrap_or(bytes.len());
            out.push_str("' '");
            i = end;
        } else {
            let ch = rest.chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands `a::{b, c::{d, e}}` at `text[start..]` (just after `prefix::`) into full paths.
fn expand_group(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    // text starts right after "{"
    let mut depth = 0usize;
    let mut end = 0;
    for (n, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                end = n;
                break;
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    let inner = &text[..end];
    // split on top-level commas
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut last = 0;
    for (n, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[last..n]);
                last = n + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[last..]);
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        read_path(prefix.to_vec(), item, false, out);
    }
    end + 1
}

/// Reads the `::`-separated segments at the start of `rest` onto `path` and pushes the path to
/// `out` (a `{...}` group: one path per item). A path ending in `::` without a segment is pushed
/// as it stands when `keep_bare`, else left out.
fn read_path(mut path: Vec<String>, mut rest: &str, keep_bare: bool, out: &mut Vec<Vec<String>>) {
    loop {
        let seg: String = rest.chars().take_while(|c| is_ident_char(*c)).collect();
        if seg.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                expand_group(group, &path, out);
            } else if keep_bare {
                out.push(path);
            }
            return;
        }
        path.push(seg.clone());
        rest = &rest[seg.len()..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => {
                out.push(path);
                return;
            }
        }
    }
}

/// Every path that starts with `root::` in the code, as segments (the root included).
fn paths_from(code: &str, root: &str) -> Vec<Vec<String>> {
    let needle = format!("{root}::");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find(&needle) {
        let at = from + pos;
        from = at + needle.len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| is_ident_char(c) || c == ':') {
            continue;
        }
        read_path(vec![root.to_string()], &code[from..], true, &mut out);
    }
    out
}

fn declared_children(code: &str) -> BTreeSet<String> {
    let mut children = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim();
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        if let Some(rest) = line.strip_prefix("mod ")
            && let Some(name) = rest.strip_suffix(';')
        {
            children.insert(name.trim().to_string());
        }
    }
    children
}

/// The module a path names: its longest prefix that is a known module.
fn resolve(path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// Module -> (module it imports -> one example path).
fn import_graph(src: &Path) -> BTreeMap<Module, BTreeMap<Module, String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut sources: BTreeMap<Module, Source> = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        if module == "main" {
            continue;
        }
        let text = code_only(&std::fs::read_to_string(file).unwrap());
        let children = declared_children(&text);
        sources.insert(module, Source { text, children });
    }
    let modules: BTreeSet<Module> = sources.keys().cloned().collect();
    let mut graph: BTreeMap<Module, BTreeMap<Module, String>> = BTreeMap::new();
    for (module, source) in &sources {
        let segments: Vec<String> = module.split("::").map(str::to_string).collect();
        let mut paths = paths_from(&source.text, "crate");
        // super:: is the parent module; self:: and a bare child name are this module's children.
        for path in paths_from(&source.text, "super") {
            let mut full = segments[..segments.len().saturating_sub(1)].to_vec();
            full.extend(path.into_iter().skip(1));
            paths.push(full);
        }
        for path in paths_from(&source.text, "self") {
            let mut full = segments.clone();
            full.extend(path.into_iter().skip(1));
            paths.push(full);
        }
        for child in &source.children {
            for path in paths_from(&source.text, child) {
                let mut full = segments.clone();
                full.extend(path);
                paths.push(full);
            }
        }
        let edges = graph.entry(module.clone()).or_default();
        for path in paths {
            // A submodule may use what its ancestors define (the parent is its context, as
            // `super::` says); every other edge counts.
            if let Some(target) = resolve(&path, &modules)
                && &target != module
                && target != "crate"
                && !module.starts_with(&format!("{target}::"))
            {
                edges.entry(target).or_insert_with(|| path.join("::"));
            }
        }
    }
    graph
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<Module, BTreeMap<Module, String>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        graph: &'a BTreeMap<Module, BTreeMap<Module, String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(edges) = s.graph.get(v) {
            for w in edges.keys() {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    if s.graph.contains_key(w) {
                        visit(s, w);
                        let lw = s.low[w];
                        let lv = s.low[v];
                        s.low.insert(v, lv.min(lw));
                    }
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v.as_str());
        }
    }
    state.found
}

fn describe(graph: &BTreeMap<Module, BTreeMap<Module, String>>, cycle: &[Module]) -> String {
    let members: BTreeSet<&Module> = cycle.iter().collect();
    let mut lines = vec![format!("cycle of {} modules:", cycle.len())];
    for m in cycle {
        for (to, example) in &graph[m] {
            if members.contains(to) {
                lines.push(format!("  {m} -> {to}   (uses {example})"));
            }
        }
    }
    lines.join("\n")
}

#[test]
fn no_import_cycle_between_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = import_graph(&src);
    assert!(
        graph.len() > 20,
        "the scan found only {} modules",
        graph.len()
    );
    let found = cycles(&graph);
    let report: Vec<String> = found.iter().map(|c| describe(&graph, c)).collect();
    assert!(
        found.is_empty(),
        "every import must point down (docs/architecture.md); {} cycle(s):\n{}",
        found.len(),
        report.join("\n")
    );
}

#[test]
fn the_scan_sees_a_cycle_when_there_is_one() {
    // The detector itself must be able to fail: a two-module cycle and a three-module one.
    let mut graph: BTreeMap<Module, BTreeMap<Module, String>> = BTreeMap::new();
    let edge = |g: &mut BTreeMap<Module, BTreeMap<Module, String>>, a: &str, b: &str| {
        g.entry(a.into())
            .or_default()
            .insert(b.into(), format!("{b}::X"));
        g.entry(b.into()).or_default();
    };
    edge(&mut graph, "crate::a", "crate::b");
    edge(&mut graph, "crate::b", "crate::a");
    edge(&mut graph, "crate::c", "crate::d");
    edge(&mut graph, "crate::d", "crate::e");
    edge(&mut graph, "crate::e", "crate::c");
    edge(&mut graph, "crate::e", "crate::f");
    let found = cycles(&graph);
    assert_eq!(
        found,
        vec![
            vec!["crate::a".to_string(), "crate::b".to_string()],
            vec![
                "crate::c".to_string(),
                "crate::d".to_string(),
                "crate::e".to_string()
            ],
        ]
    );
}

#[test]
fn grouped_and_relative_imports_are_read() {
    let code = code_only(
        "use crate::{http::{Client, Request}, target::Target};\n// crate::ignored::X\nlet s = \"crate::nope\";\nsuper::world::X;",
    );
    let mut crate_paths = paths_from(&code, "crate");
    crate_paths.sort();
    assert_eq!(
        crate_paths,
        vec![
            vec!["crate", "http", "Client"],
            vec!["crate", "http", "Request"],
            vec!["crate", "target", "Target"],
        ]
        .into_iter()
        .map(|p| p.into_iter().map(String::from).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    );
    assert_eq!(paths_from(&code, "super").len(), 1);
}
