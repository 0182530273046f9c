//! Directory extensions registered on the application, and their values on objects.

use super::*;

impl Directory {
    /// `POST /applications/{id}/extensionProperties`.
    pub fn register_extension(
        &mut self,
        extension: ExtensionProperty,
    ) -> Result<&ExtensionProperty, GraphError> {
        if self
            .extensions
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(&extension.name))
        {
            return Err(GraphError::bad_request(format!(
                "Property with name '{}' already exists on the application.",
                extension.name
            )));
        }
        self.extensions.push(extension);
        Ok(self.extensions.last().expect("just pushed"))
    }

    pub fn extensions(&self) -> &[ExtensionProperty] {
        &self.extensions
    }

    /// `DELETE /applications/{id}/extensionProperties/{id}`: the definition goes; values
    /// already written stay stored but can no longer be read or written.
    pub fn unregister_extension(&mut self, id: &str) -> Result<(), GraphError> {
        let before = self.extensions.len();
        self.extensions.retain(|e| !e.id.eq_ignore_ascii_case(id));
        if self.extensions.len() == before {
            return Err(GraphError::not_found(id));
        }
        Ok(())
    }

    pub(super) fn extension(&self, kind: Kind, name: &str) -> Option<&ExtensionProperty> {
        self.extensions
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name) && e.targets(kind))
    }

    /// Extension names in `$select`, `$orderby` or `$filter` must be registered for the
    /// object's type.
    pub fn check_extension_names<'a>(
        &self,
        kind: Kind,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), GraphError> {
        for name in names {
            if name.starts_with(EXTENSION_PREFIX) && self.extension(kind, name).is_none() {
                return Err(GraphError::odata_bad_request(format!(
                    "Could not find a property named '{name}' on type 'microsoft.graph.{}'.",
                    kind.entity()
                )));
            }
        }
        Ok(())
    }

    /// Extension values in a create or PATCH payload: registered for the type, right
    /// data type.
    pub(super) fn check_extension_values(
        &self,
        kind: Kind,
        body: &Map<String, Value>,
    ) -> Result<(), GraphError> {
        for (key, value) in body.iter().filter(|(k, _)| k.starts_with(EXTENSION_PREFIX)) {
            let Some(extension) = self.extension(kind, key) else {
                return Err(GraphError::odata_bad_request(format!(
                    "Property '{key}' does not exist on type 'microsoft.graph.{}'. Make sure to only use property names that are defined by the type or mark the type as open type.",
                    kind.entity()
                )));
            };
            extension.check_value(value)?;
        }
        Ok(())
    }

    /// "Only 100 extension values, across all types and all applications, can be written
    /// to any single Microsoft Entra resource": counts the values the object would hold
    /// after the write (`current` is the object for a PATCH).
    pub(super) fn check_extension_limit(
        &self,
        current: Option<&DirObject>,
        body: &Map<String, Value>,
    ) -> Result<(), GraphError> {
        let kept = current.map_or(0, |o| {
            o.props
                .iter()
                .filter(|(k, v)| k.starts_with(EXTENSION_PREFIX) && !v.is_null())
                .filter(|(k, _)| !body.contains_key(*k))
                .count()
        });
        let written = body
            .iter()
            .filter(|(k, v)| k.starts_with(EXTENSION_PREFIX) && !v.is_null())
            .count();
        if kept + written > MAX_EXTENSION_VALUES {
            return Err(GraphError::bad_request(format!(
                "An object can hold at most {MAX_EXTENSION_VALUES} extension values."
            )));
        }
        Ok(())
    }
}

/// The documented limit of extension values on one object.
pub(super) const MAX_EXTENSION_VALUES: usize = 100;
