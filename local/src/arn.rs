//! Local ARNs (account `000000000000`), the function identifiers the Lambda API accepts, and execution ARNs.

/// The account every local ARN carries.
pub const LOCAL_ACCOUNT: &str = "000000000000";

/// Builds the ARNs and physical ids of one local stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arns {
    /// The stack's name.
    pub stack: String,
    /// The region ARNs name.
    pub region: String,
    /// The account ARNs name.
    pub account: String,
}

impl Arns {
    /// ARNs for `stack` in `region`, in the local account.
    pub fn new(stack: &str, region: &str) -> Self {
        Self { stack: stack.to_owned(), region: region.to_owned(), account: LOCAL_ACCOUNT.to_owned() }
    }

    /// The function name of a function's logical id when the template names none: `<stack>-<LogicalId>`, cut to
    /// Lambda's 64 characters.
    pub fn function_name(&self, logical_id: &str) -> String {
        format!("{}-{logical_id}", self.stack).chars().take(64).collect()
    }

    /// The physical id of any other resource.
    pub fn physical_id(&self, logical_id: &str) -> String {
        format!("{}-{logical_id}", self.stack)
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn function_arn(&self, name: &str) -> String {
        format!("arn:aws:lambda:{}:{}:function:{name}", self.region, self.account)
    }

    /// The function ARN with a version or alias.
    pub fn qualified_arn(&self, name: &str, qualifier: &str) -> String {
        format!("{}:{qualifier}", self.function_arn(name))
    }

    /// A pseudo parameter's value, if `name` is one.
    pub fn pseudo(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::Region" => self.region.clone(),
            "AWS::AccountId" => self.account.clone(),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            "AWS::StackName" => self.stack.clone(),
            "AWS::StackId" => {
                format!("arn:aws:cloudformation:{}:{}:stack/{}/local", self.region, self.account, self.stack)
            }
            "AWS::NoValue" => String::new(),
            _ => return None,
        })
    }

    /// A stand-in for an attribute the local target has no real value for.
    pub fn generic_attribute(&self, kind: &str, logical_id: &str, attr: &str) -> String {
        let service = kind.split("::").nth(1).unwrap_or("local").to_lowercase();
        let id = self.physical_id(logical_id);
        if attr == "Arn" {
            format!("arn:aws:{service}:{}:{}:{id}", self.region, self.account)
        } else {
            format!("{id}.{attr}")
        }
    }
}

/// A function identifier as the Invoke API accepts it, split into name and qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// The bare function name.
    pub name: String,
    /// Version, alias or `$LATEST`, when given.
    pub qualifier: Option<String>,
}

/// Parses `name`, `name:qualifier`, `account:function:name[:qualifier]` (a partial ARN) or a full function ARN.
/// Returns `None` for anything else.
pub fn parse_function_ref(identifier: &str) -> Option<FunctionRef> {
    let parts: Vec<&str> = identifier.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        [name] => (*name, None),
        [name, qualifier] => (*name, Some(*qualifier)),
        [_account, "function", name] => (*name, None),
        [_account, "function", name, qualifier] => (*name, Some(*qualifier)),
        ["arn", _partition, "lambda", _region, _account, "function", name] => (*name, None),
        ["arn", _partition, "lambda", _region, _account, "function", name, qualifier] => (*name, Some(*qualifier)),
        _ => return None,
    };
    let valid_name =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let valid_qualifier = qualifier.is_none_or(|q| {
        !q.is_empty() && q.len() <= 128 && q.chars().all(|c| c.is_ascii_alphanumeric() || "$-_".contains(c))
    });
    (valid_name && valid_qualifier)
        .then(|| FunctionRef { name: name.to_owned(), qualifier: qualifier.map(str::to_owned) })
}

/// An execution ARN taken apart: `<function ARN>:<qualifier>/durable-execution/<name>/<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionArn<'a> {
    /// The function ARN with its qualifier.
    pub qualified_function_arn: &'a str,
    /// The bare function name.
    pub function_name: &'a str,
    /// Version or `$LATEST`.
    pub qualifier: &'a str,
    /// Execution name.
    pub name: &'a str,
    /// Execution id.
    pub id: &'a str,
}

/// Parses an execution ARN; `None` when it does not have the service's shape.
pub fn parse_execution_arn(arn: &str) -> Option<ExecutionArn<'_>> {
    let (function, rest) = arn.split_once("/durable-execution/")?;
    let (name, id) = rest.split_once('/')?;
    let parts: Vec<&str> = function.split(':').collect();
    let ["arn", _, "lambda", _, _, "function", function_name, qualifier] = parts.as_slice() else { return None };
    let segment = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (segment(name) && segment(id) && arn.len() <= 1024).then_some(ExecutionArn {
        qualified_function_arn: function,
        function_name,
        qualifier,
        name,
        id,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_invoke_accepts() {
        let cases = [
            ("fn", "fn", None),
            ("fn:live", "fn", Some("live")),
            ("000000000000:function:fn", "fn", None),
            ("arn:aws:lambda:us-east-1:000000000000:function:fn", "fn", None),
            ("arn:aws:lambda:us-east-1:000000000000:function:fn:3", "fn", Some("3")),
            ("fn:$LATEST", "fn", Some("$LATEST")),
        ];
        for (input, name, qualifier) in cases {
            let parsed = parse_function_ref(input);
            assert_eq!(
                parsed,
                Some(FunctionRef { name: name.to_owned(), qualifier: qualifier.map(str::to_owned) }),
                "{input}"
            );
        }
        assert_eq!(parse_function_ref("a:b:c"), None);
        assert_eq!(parse_function_ref("has space"), None);
        assert_eq!(parse_function_ref(""), None);
    }

    #[test]
    fn execution_arns_have_the_service_shape() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:app-Orch:$LATEST/durable-execution/order-1/0b5d";
        let parsed = parse_execution_arn(arn).unwrap();
        assert_eq!(
            (parsed.function_name, parsed.qualifier, parsed.name, parsed.id),
            ("app-Orch", "$LATEST", "order-1", "0b5d")
        );
        assert!(parse_execution_arn("uuid/uuid").is_none());
        assert!(
            parse_execution_arn("arn:aws:lambda:us-east-1:000000000000:function:f:1/durable-execution/a b/c").is_none()
        );
    }

    #[test]
    fn builds_local_arns() {
        let arns = Arns::new("Stack", "eu-west-1");
        assert_eq!(
            arns.qualified_arn("Stack-Fn", "live"),
            "arn:aws:lambda:eu-west-1:000000000000:function:Stack-Fn:live"
        );
    }
}
