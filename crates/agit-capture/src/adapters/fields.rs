//! Typed access to payload fields, and the fields every hook event shares.

use std::path::PathBuf;

use super::error::AdapterError;
use super::json::{Object, Value};
use crate::event::{EventKind, HookEvent, Origin};

/// The root object of a payload, with accessors that turn absence or a wrong type into
/// the reference's typed errors.
pub(crate) struct Payload<'a> {
    root: &'a Object,
}

impl<'a> Payload<'a> {
    pub(crate) fn new(root: &'a Object) -> Self {
        Payload { root }
    }

    /// The whole root object.
    pub(crate) fn root(&self) -> &'a Object {
        self.root
    }

    /// The raw value of a field.
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.root.get(field)
    }

    /// `hook_event_name`, required everywhere; adapters route on it.
    pub(crate) fn event_name(&self) -> Result<&'a str, AdapterError> {
        self.required_str("hook_event_name")
    }

    /// The payload's `hook_event_name` and the route `routes` maps it to; a name the
    /// adapter does not handle is `unknown_event_name`.
    pub(crate) fn route<R: Copy>(
        &self,
        adapter: &'static str,
        routes: &[(&str, R)],
    ) -> Result<(&'a str, R), AdapterError> {
        let name = self.event_name()?;
        routes
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, route)| (name, *route))
            .ok_or_else(|| AdapterError::UnknownEventName { adapter, name: name.to_owned() })
    }

    /// The event's own id, diagnostics only: `tool_use_id` for a tool event, else
    /// `event_id`.
    pub(crate) fn source_event_id(&self, tool_event: bool) -> Result<Option<String>, AdapterError> {
        self.optional_nonempty(if tool_event { "tool_use_id" } else { "event_id" })
    }

    /// A string field that must be present (`null` counts as a wrong type).
    pub(crate) fn required_str(&self, field: &'static str) -> Result<&'a str, AdapterError> {
        match self.root.get(field) {
            Some(Value::String(text)) => Ok(text),
            Some(other) => Err(wrong_type(field, "a string", other)),
            None => Err(AdapterError::MissingRequiredField { field }),
        }
    }

    /// An optional string field: absent or `null` → `None`; another type is an error.
    pub(crate) fn optional_str(&self, field: &'static str) -> Result<Option<&'a str>, AdapterError> {
        optional_str_in(self.root, field, field)
    }

    /// An optional string field where an empty string means "not given" (turn ids,
    /// models, event ids: the reference only acts on non-empty values).
    pub(crate) fn optional_nonempty(&self, field: &'static str) -> Result<Option<String>, AdapterError> {
        Ok(nonempty(self.optional_str(field)?))
    }

    /// An object field that must be present.
    pub(crate) fn required_object(&self, field: &'static str) -> Result<&'a Object, AdapterError> {
        match self.root.get(field) {
            Some(Value::Object(object)) => Ok(object),
            Some(other) => Err(wrong_type(field, "an object", other)),
            None => Err(AdapterError::MissingRequiredField { field }),
        }
    }

    /// An array field that must be present.
    pub(crate) fn required_array(&self, field: &'static str) -> Result<&'a [Value], AdapterError> {
        match self.root.get(field) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(wrong_type(field, "an array", other)),
            None => Err(AdapterError::MissingRequiredField { field }),
        }
    }

    /// The fields every event carries, read after the event name was accepted:
    /// `session_id` and `cwd` (required strings) and `turn_id` (optional).
    pub(crate) fn header(&self, event_name: &str) -> Result<Header, AdapterError> {
        Ok(Header {
            event_name: event_name.to_owned(),
            session_id: self.required_str("session_id")?.to_owned(),
            cwd: PathBuf::from(self.required_str("cwd")?),
            preferred_turn_id: self.optional_nonempty("turn_id")?,
        })
    }
}

/// An optional string `key` of `object`, reported as `field` (a dotted path for nested
/// fields).
pub(crate) fn optional_str_in<'a>(
    object: &'a Object,
    key: &str,
    field: &'static str,
) -> Result<Option<&'a str>, AdapterError> {
    match object.get(key) {
        Some(Value::String(text)) => Ok(Some(text)),
        // Why lenient on null: agents serialise unset optionals as null or omit them;
        // both mean "not given".
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(wrong_type(field, "a string", other)),
    }
}

/// `Some` only for a non-empty string.
pub(crate) fn nonempty(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(str::to_owned)
}

fn wrong_type(field: &'static str, expected: &'static str, found: &Value) -> AdapterError {
    AdapterError::InvalidFieldType { field, expected, found: found.type_name() }
}

/// The fields shared by every event of every agent.
pub(crate) struct Header {
    event_name: String,
    session_id: String,
    cwd: PathBuf,
    preferred_turn_id: Option<String>,
}

impl Header {
    /// The event, with no source id or model (adapters add those they read).
    pub(crate) fn event(self, origin: Origin, kind: EventKind) -> HookEvent {
        HookEvent {
            origin,
            event_name: self.event_name,
            session_id: self.session_id,
            cwd: self.cwd,
            preferred_turn_id: self.preferred_turn_id,
            source_event_id: None,
            model: None,
            kind,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::adapters::json;

    fn object(text: &str) -> Object {
        match json::parse(text.as_bytes()).unwrap() {
            Value::Object(object) => object,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn required_fields_distinguish_missing_from_wrong_type() {
        let root = object(r#"{"s":"x","n":1,"z":null,"o":{},"a":[]}"#);
        let p = Payload::new(&root);
        assert_eq!(p.required_str("s").unwrap(), "x");
        assert_eq!(p.required_str("missing").unwrap_err(), AdapterError::MissingRequiredField { field: "missing" });
        assert_eq!(
            p.required_str("n").unwrap_err(),
            AdapterError::InvalidFieldType { field: "n", expected: "a string", found: "a number" }
        );
        assert_eq!(p.required_str("z").unwrap_err().code(), "invalid_field_type");
        assert!(p.required_object("o").is_ok());
        assert_eq!(p.required_object("a").unwrap_err().code(), "invalid_field_type");
        assert!(p.required_array("a").is_ok());
        assert_eq!(p.required_array("o").unwrap_err().code(), "invalid_field_type");
        assert_eq!(p.required_array("q").unwrap_err().code(), "missing_required_field");
    }

    #[test]
    fn optional_fields_treat_null_as_absent_and_empty_as_unset() {
        let root = object(r#"{"e":"","s":"v","z":null,"b":true}"#);
        let p = Payload::new(&root);
        assert_eq!(p.optional_str("e").unwrap(), Some(""));
        assert_eq!(p.optional_nonempty("e").unwrap(), None);
        assert_eq!(p.optional_nonempty("s").unwrap().as_deref(), Some("v"));
        assert_eq!(p.optional_str("z").unwrap(), None);
        assert_eq!(p.optional_str("none").unwrap(), None);
        assert_eq!(p.optional_str("b").unwrap_err().code(), "invalid_field_type");
    }
}
