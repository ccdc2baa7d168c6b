//! Who a request acts as. Until real authentication lands, every request acts as the server's
//! identity, configured with `trellis serve --user NAME --user-group GROUP…`.

use engine::approval::{
    Actor, LABEL_CREATOR, LABEL_CREATOR_EMAIL, LABEL_CREATOR_PREFERRED_USERNAME, label_value,
};
use engine::model::Workflow;
use serde::Serialize;

/// The subject used when neither `--user` nor `$USER` names one.
pub const FALLBACK_SUBJECT: &str = "trellis";

/// A user, as Argo's `/api/v1/userinfo` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The user's name (an OIDC subject, later).
    pub subject: String,
    /// Their email, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Their display name, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The groups they belong to.
    pub groups: Vec<String>,
}

impl Identity {
    /// A user of that subject and groups, without email or display name.
    pub fn new(subject: impl Into<String>, groups: Vec<String>) -> Self {
        Identity {
            subject: subject.into(),
            email: None,
            name: None,
            groups,
        }
    }

    /// The server's identity from `--user` (else `os_user`, the `$USER` of the process, else
    /// [`FALLBACK_SUBJECT`]) and `--user-group` (blank groups dropped, duplicates kept once).
    pub fn of_server(user: Option<&str>, os_user: Option<&str>, groups: &[String]) -> Self {
        let subject = [user, os_user]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|s| !s.is_empty())
            .unwrap_or(FALLBACK_SUBJECT);
        let mut kept: Vec<String> = Vec::new();
        for g in groups.iter().map(|g| g.trim()).filter(|g| !g.is_empty()) {
            if !kept.iter().any(|k| k == g) {
                kept.push(g.to_string());
            }
        }
        Identity::new(subject, kept)
    }

    /// The identity as the approval rules see it.
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            subject: &self.subject,
            groups: &self.groups,
        }
    }

    /// Labels a workflow this identity creates with Argo's creator labels, replacing whatever
    /// the client sent (so no one can submit in someone else's name).
    pub fn label_creator(&self, wf: &mut Workflow) {
        let meta = wf.metadata.get_or_insert_with(Default::default);
        let labels = meta.labels.get_or_insert_with(Default::default);
        for key in [
            LABEL_CREATOR,
            LABEL_CREATOR_EMAIL,
            LABEL_CREATOR_PREFERRED_USERNAME,
        ] {
            labels.remove(key);
        }
        let creator = label_value(&self.subject);
        if !creator.is_empty() {
            labels.insert(LABEL_CREATOR.into(), creator);
        }
        if let Some(email) = self.email.as_deref().filter(|e| !e.is_empty()) {
            labels.insert(
                LABEL_CREATOR_EMAIL.into(),
                label_value(&email.replacen('@', ".at.", 1)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_user_comes_from_the_flag_then_the_os() {
        let groups = vec![" release ".to_string(), String::new(), "release".into()];
        let id = Identity::of_server(Some("alice"), Some("root"), &groups);
        assert_eq!(
            (id.subject.as_str(), id.groups.clone()),
            ("alice", vec!["release".to_string()])
        );
        assert_eq!(Identity::of_server(None, Some("bob"), &[]).subject, "bob");
        assert_eq!(
            Identity::of_server(Some(" "), None, &[]).subject,
            FALLBACK_SUBJECT
        );
    }

    #[test]
    fn creator_labels_replace_what_the_client_sent() {
        let mut wf: Workflow = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "w", "labels": {
                LABEL_CREATOR: "mallory",
                LABEL_CREATOR_PREFERRED_USERNAME: "mallory",
                "team": "a"
            }}
        }))
        .unwrap();
        let mut id = Identity::new("bob@example.com", vec![]);
        id.email = Some("bob@example.com".into());
        id.label_creator(&mut wf);
        let labels = wf.metadata.unwrap().labels.unwrap();
        assert_eq!(labels[LABEL_CREATOR], "bob-example.com");
        assert_eq!(labels[LABEL_CREATOR_EMAIL], "bob.at.example.com");
        assert!(!labels.contains_key(LABEL_CREATOR_PREFERRED_USERNAME));
        assert_eq!(labels["team"], "a");
    }
}
