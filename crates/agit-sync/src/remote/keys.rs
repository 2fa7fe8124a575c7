//! The remote key layout, shared with the reference (`remote.md` §2.2): with `P` the
//! configured prefix trimmed of `/`, objects live at `P/objects/<2 hex>/<62 hex>` and
//! session refs at `P/refs/sessions/<hex origin>/<hex session>`; both backends use it.

use agit_core::{ObjectId, SessionRef};

/// Where session refs live under the prefix.
pub const REFS_DIR: &str = "refs/sessions/";

/// The prefix with `/` trimmed from both ends (the reference's rule).
pub fn trim_prefix(prefix: &str) -> &str {
    prefix.trim_matches('/')
}

/// Key layout under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLayout {
    prefix: String,
}

impl KeyLayout {
    /// Layout under `prefix` (trimmed of `/`).
    pub fn new(prefix: &str) -> KeyLayout {
        KeyLayout { prefix: trim_prefix(prefix).to_string() }
    }

    fn join(&self, suffix: &str) -> String {
        if self.prefix.is_empty() { suffix.to_string() } else { format!("{}/{suffix}", self.prefix) }
    }

    /// `P/objects/xx/yyyy…`.
    pub fn object(&self, id: &ObjectId) -> String {
        let hex = id.to_hex();
        self.join(&format!("objects/{}/{}", &hex[..2], &hex[2..]))
    }

    /// `P/refs/sessions/<hex origin>/<hex session>`.
    pub fn session_ref(&self, session: &SessionRef) -> String {
        self.join(&session.relative_path())
    }

    /// The listing prefix of every session ref: `P/refs/sessions/`.
    pub fn refs_prefix(&self) -> String {
        self.join(REFS_DIR)
    }

    /// The listing prefix of every object: `P/objects/`.
    pub fn objects_prefix(&self) -> String {
        self.join("objects/")
    }

    /// Decode a listed object key back into its id (`None` for anything else).
    pub fn parse_object_key(&self, key: &str) -> Option<ObjectId> {
        let rest = key.strip_prefix(&self.objects_prefix())?;
        let (shard, tail) = rest.split_once('/')?;
        if shard.len() != 2 {
            return None;
        }
        ObjectId::parse(&format!("{shard}{tail}"))
    }

    /// Decode a listed key back into a session, or `None` for a key that is not a
    /// session ref under this prefix (other tools' keys are ignored, not fatal).
    pub fn parse_ref_key(&self, key: &str) -> Option<SessionRef> {
        let rest = key.strip_prefix(&self.refs_prefix())?;
        let (origin, session) = rest.split_once('/')?;
        if session.contains('/') {
            return None;
        }
        SessionRef::from_hex_components(origin, session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_reference() {
        let id = ObjectId::parse(&"ab".repeat(32)).unwrap();
        let session = SessionRef::new("claude", "s1");
        let bare = KeyLayout::new("");
        assert_eq!(bare.object(&id), format!("objects/ab/{}", "ab".repeat(31)));
        assert_eq!(bare.session_ref(&session), "refs/sessions/636c61756465/7331");
        let team = KeyLayout::new("/team/x/");
        assert_eq!(team.session_ref(&session), "team/x/refs/sessions/636c61756465/7331");
        assert_eq!(team.parse_ref_key("team/x/refs/sessions/636c61756465/7331"), Some(session));
        assert_eq!(team.parse_ref_key("team/x/refs/sessions/636c61756465/7331.lock"), None);
        assert_eq!(team.parse_ref_key("other/refs/sessions/636c61756465/7331"), None);
        let key = team.object(&id);
        assert_eq!(team.parse_object_key(&key), Some(id));
        assert_eq!(team.parse_object_key(&format!("{key}.tmp")), None);
        assert_eq!(team.parse_object_key("team/x/objects/abc/def"), None);
    }
}
