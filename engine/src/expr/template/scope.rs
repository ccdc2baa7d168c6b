//! The variables a template sees: flat Argo keys (`inputs.parameters.message`,
//! `steps.flip.outputs.result`, `item`, …) to string values, layered so that a scope built from
//! another shares it instead of copying it.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// How many layers a scope may stack before a child flattens its parents into one.
const MAX_LAYERS: usize = 16;

/// Argo variables for template substitution: a flat map of dotted keys to values, optionally
/// on top of a shared parent scope (the local entries win, and may hide the parent's).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    parent: Option<Arc<Scope>>,
    /// `None` hides the parent's entry.
    local: BTreeMap<String, Option<String>>,
    layers: usize,
}

impl Scope {
    /// An empty scope.
    pub fn new() -> Scope {
        Scope::default()
    }

    /// A scope that sees every entry of `parent` (shared, not copied) plus its own.
    pub fn child(parent: &Arc<Scope>) -> Scope {
        if parent.layers >= MAX_LAYERS {
            let flat = Scope::from(parent.to_map());
            return Scope {
                parent: Some(Arc::new(flat)),
                local: BTreeMap::new(),
                layers: 1,
            };
        }
        Scope {
            parent: Some(Arc::clone(parent)),
            local: BTreeMap::new(),
            layers: parent.layers + 1,
        }
    }

    /// Freezes this scope so that children can share it.
    pub fn into_shared(self) -> Arc<Scope> {
        Arc::new(self)
    }

    /// Sets `key` to `value` in this scope (hiding a parent's value).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.local.insert(key.into(), Some(value.into()));
    }

    /// Removes `key`, also hiding a parent's value.
    pub fn remove(&mut self, key: &str) {
        if self.parent.is_some() {
            self.local.insert(key.to_owned(), None);
        } else {
            self.local.remove(key);
        }
    }

    /// Removes `root` and every `root.…` key (e.g. a parent's `item` and `item.field`s).
    pub fn remove_tree(&mut self, root: &str) {
        let mut found = BTreeMap::new();
        self.collect_root(root, &mut found);
        let keys: Vec<String> = found.into_keys().map(str::to_owned).collect();
        for key in keys {
            self.remove(&key);
        }
    }

    /// The value of `key`, from this scope or its parents.
    pub fn get(&self, key: &str) -> Option<&str> {
        match self.local.get(key) {
            Some(v) => v.as_deref(),
            None => self.parent.as_deref().and_then(|p| p.get(key)),
        }
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Every entry, parents' first, with local values winning.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut out = self
            .parent
            .as_deref()
            .map(Scope::to_map)
            .unwrap_or_default();
        for (k, v) in &self.local {
            match v {
                Some(v) => out.insert(k.clone(), v.clone()),
                None => out.remove(k),
            };
        }
        out
    }

    /// How many distinct keys the scope has.
    pub fn len(&self) -> usize {
        self.to_map().len()
    }

    /// Whether the scope has no entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries whose key is `root` or starts with `root.`, local values winning.
    pub(crate) fn collect_root<'a>(&'a self, root: &str, out: &mut BTreeMap<&'a str, &'a str>) {
        if let Some(parent) = self.parent.as_deref() {
            parent.collect_root(root, out);
        }
        let range = self
            .local
            .range::<str, _>((Bound::Included(root), Bound::Unbounded));
        for (k, v) in range.take_while(|(k, _)| k.starts_with(root)) {
            let rest = &k[root.len()..];
            if rest.is_empty() || rest.starts_with('.') {
                match v {
                    Some(v) => out.insert(k, v),
                    None => out.remove(k.as_str()),
                };
            }
        }
    }
}

impl From<BTreeMap<String, String>> for Scope {
    fn from(local: BTreeMap<String, String>) -> Self {
        Scope {
            parent: None,
            local: local.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            layers: 0,
        }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Scope {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut scope = Scope::new();
        scope.extend(iter);
        scope
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for Scope {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_share_and_override() {
        let mut base = Scope::new();
        base.insert("workflow.name", "wf");
        base.insert("item", "outer");
        let base = base.into_shared();
        let mut child = Scope::child(&base);
        child.insert("item", "inner");
        assert_eq!(child.get("workflow.name"), Some("wf"));
        assert_eq!(child.get("item"), Some("inner"));
        assert_eq!(base.get("item"), Some("outer"));
        assert_eq!(child.len(), 2);
        assert!(!child.is_empty());
        assert!(Scope::child(&Scope::new().into_shared()).is_empty());
        assert!(child.contains_key("item") && !child.contains_key("x"));
        child.remove("workflow.name");
        assert_eq!(child.get("workflow.name"), None);
        assert_eq!(base.get("workflow.name"), Some("wf"));
        assert_eq!(child.to_map().len(), 1);
        let mut root = Scope::from_iter([("a", "1")]);
        root.remove("a");
        assert!(root.is_empty());
    }

    #[test]
    fn deep_stacks_are_flattened() {
        let mut scope = Arc::new(Scope::from_iter([("k0", "v")]));
        for i in 1..100 {
            let mut next = Scope::child(&scope);
            next.insert(format!("k{i}"), "v");
            assert!(next.layers <= MAX_LAYERS);
            scope = next.into_shared();
        }
        assert_eq!(scope.len(), 100);
        assert_eq!(scope.get("k0"), Some("v"));
    }

    #[test]
    fn collects_a_root_and_its_children_only() {
        let mut parent = Scope::from_iter([("item", "1"), ("item.a", "2"), ("items", "x")]);
        parent.insert("item-b", "y");
        let parent = parent.into_shared();
        let mut child = Scope::child(&parent);
        child.extend([("item.a", "3"), ("item.b.c", "4")]);
        let mut out = BTreeMap::new();
        child.collect_root("item", &mut out);
        let got: Vec<(&str, &str)> = out.into_iter().collect();
        assert_eq!(got, [("item", "1"), ("item.a", "3"), ("item.b.c", "4")]);
    }
}
