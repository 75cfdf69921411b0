//! Chained-invoke targets resolved against what is deployed, as the Invoke API resolves a function identifier.

use crate::arn::parse_function_ref;
use crate::deployment::Deployment;
use crate::engine::model::ErrorObject;
use crate::engine::{Functions, InvokeTarget};

impl Functions for Deployment {
    fn resolve(&self, identifier: &str) -> Result<InvokeTarget, ErrorObject> {
        let not_found = || ErrorObject::new("ResourceNotFoundException", format!("Function not found: {identifier}"));
        let function = parse_function_ref(identifier).ok_or_else(not_found)?;
        let target = Deployment::resolve(self, &function.name, function.qualifier.as_deref()).ok_or_else(not_found)?;
        let durable = match target.function.durable {
            Some(_) if function.qualifier.is_none() => {
                return Err(ErrorObject::new(
                    "InvalidParameterValueException",
                    "You cannot invoke a durable function using an unqualified ARN.",
                ));
            }
            Some(d) => Some((
                i64::try_from(d.execution_timeout).unwrap_or(i64::MAX),
                i64::try_from(d.retention_days).unwrap_or(i64::MAX),
            )),
            None => None,
        };
        Ok(InvokeTarget {
            function_name: target.function.name.clone(),
            function_arn: self.function_arn(&target.function.name),
            qualifier: target.version,
            durable,
        })
    }
}
