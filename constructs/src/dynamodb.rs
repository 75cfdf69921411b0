//! Amazon DynamoDB in CDK's L2 manner: [`Table`] makes an on-demand table with point-in-time recovery, kept when
//! the stack is deleted unless told otherwise; [`TableRef::grant_read_data`], [`TableRef::grant_write_data`] and
//! [`TableRef::grant_read_write_data`] give a function or role the item operations on that table.
//!
//! ```
//! use constructs::dynamodb::{Attribute, Table};
//! use constructs::lambda::RustFunction;
//! use constructs::{App, AssetManifest, RemovalPolicy, Stack};
//!
//! let mut stack = Stack::new(&App::new(), "Shop")?;
//! let orders = stack.construct(
//!     "Orders",
//!     Table::new(Attribute::string("customerId")).sort_key(Attribute::number("placedAt")).removal_policy(RemovalPolicy::Delete),
//! )?;
//! let recorder = stack.construct("Recorder", RustFunction::new("recorder").env("TABLE", orders.table_name()))?;
//! orders.grant_write_data(&mut stack, &recorder)?;
//!
//! let template = stack.synth(&AssetManifest::placeholders(&stack.assets()))?.template;
//! let table = &template["Resources"]["Orders"];
//! assert_eq!(table["Properties"]["BillingMode"], "PAY_PER_REQUEST");
//! assert_eq!(table["Properties"]["KeySchema"][1]["KeyType"], "RANGE");
//! assert_eq!(table["DeletionPolicy"], "Delete");
//! let statement = &template["Resources"]["RecorderRole"]["Properties"]["Policies"][1]["PolicyDocument"]["Statement"][0];
//! assert_eq!(statement["Sid"], "WriteDataOrders");
//! assert!(statement["Action"].as_array().unwrap().iter().all(|a| a != "dynamodb:GetItem"));
//! # Ok::<(), constructs::SynthError>(())
//! ```

use crate::construct::{Construct, Scope, Stack};
use crate::error::SynthError;
use crate::grant::{Grantee, sid};
use crate::reference::{Expr, Reference, ResourceHandle};
use crate::resources::cfn::{CfnRef, CfnResource, PropValue};
use crate::resources::iam::Statement;
use crate::template::RemovalPolicy;

/// What reading items takes (no stream or index actions: the table has neither).
pub const READ_DATA_ACTIONS: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];
/// What writing items takes.
pub const WRITE_DATA_ACTIONS: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];

/// Why a table encrypted with DynamoDB's own key skips checkov's customer-managed-key check.
const OWNED_KEY_SKIP: (&str, &str) = (
    "CKV_AWS_119",
    "encrypted at rest with the AWS owned key; a customer managed key would add a key, its policy and per-request cost",
);

/// The type of a key attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttributeType {
    /// `S`.
    String,
    /// `N`.
    Number,
    /// `B`.
    Binary,
}

impl AttributeType {
    fn code(self) -> &'static str {
        match self {
            Self::String => "S",
            Self::Number => "N",
            Self::Binary => "B",
        }
    }
}

/// A key attribute: its name and type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// The attribute's name.
    pub name: String,
    /// Its type.
    pub kind: AttributeType,
}

impl Attribute {
    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: AttributeType::String }
    }

    /// A number attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: AttributeType::Number }
    }

    /// A binary attribute.
    pub fn binary(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: AttributeType::Binary }
    }
}

/// An `AWS::DynamoDB::Table` named by CloudFormation: on-demand (`PAY_PER_REQUEST`), point-in-time recovery on,
/// encrypted with the AWS owned key, kept when the stack deletes or replaces it ([`RemovalPolicy::Retain`], as
/// the CDK does for tables: deleting a stack never deletes data unless the table says so).
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Table {
    partition_key: Attribute,
    sort_key: Option<Attribute>,
    removal_policy: RemovalPolicy,
    point_in_time_recovery: bool,
    time_to_live_attribute: Option<String>,
}

impl Table {
    /// A table whose items are keyed by `partition_key`.
    pub fn new(partition_key: Attribute) -> Self {
        Self {
            partition_key,
            sort_key: None,
            removal_policy: RemovalPolicy::Retain,
            point_in_time_recovery: true,
            time_to_live_attribute: None,
        }
    }

    /// Adds a sort key: items are keyed by both.
    pub fn sort_key(mut self, attribute: Attribute) -> Self {
        self.sort_key = Some(attribute);
        self
    }

    /// What happens to the table when the stack deletes or replaces it (default: kept).
    pub fn removal_policy(mut self, policy: RemovalPolicy) -> Self {
        self.removal_policy = policy;
        self
    }

    /// Turns point-in-time recovery off (checkov then reports the table: say why with `Stack::skip_check`).
    pub fn without_point_in_time_recovery(mut self) -> Self {
        self.point_in_time_recovery = false;
        self
    }

    /// Items expire at the epoch-seconds time in this attribute.
    pub fn time_to_live_attribute(mut self, name: impl Into<String>) -> Self {
        self.time_to_live_attribute = Some(name.into());
        self
    }

    fn check(&self, path: &str) -> Result<(), SynthError> {
        for attribute in std::iter::once(&self.partition_key).chain(&self.sort_key) {
            if !(1..=255).contains(&attribute.name.len()) {
                return Err(SynthError::invalid(path, "key attribute names must be 1 to 255 bytes long"));
            }
        }
        if self.sort_key.as_ref().is_some_and(|sort| sort.name == self.partition_key.name) {
            return Err(SynthError::invalid(
                path,
                format!(
                    "the sort key and the partition key are both `{}`: name two attributes",
                    self.partition_key.name
                ),
            ));
        }
        Ok(())
    }
}

impl Construct for Table {
    type Output = TableRef;

    /// Adds the table `<id>` to `scope`.
    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<TableRef, SynthError> {
        self.check(&format!("{}/{id}", scope.path()))?;
        let keys: Vec<(&Attribute, &str)> =
            std::iter::once((&self.partition_key, "HASH")).chain(self.sort_key.iter().map(|a| (a, "RANGE"))).collect();
        let definitions = PropValue::list(keys.iter().map(|(a, _)| {
            PropValue::object([("AttributeName", a.name.as_str().into()), ("AttributeType", a.kind.code().into())])
        }));
        let schema = PropValue::list(keys.iter().map(|(a, role)| {
            PropValue::object([("AttributeName", a.name.as_str().into()), ("KeyType", (*role).into())])
        }));
        let mut table = CfnResource::new("AWS::DynamoDB::Table")
            .set("AttributeDefinitions", definitions)
            .set("BillingMode", "PAY_PER_REQUEST")
            .set("KeySchema", schema)
            .set(
                "PointInTimeRecoverySpecification",
                PropValue::object([("PointInTimeRecoveryEnabled", self.point_in_time_recovery.into())]),
            )
            .removal_policy(self.removal_policy);
        if let Some(attribute) = &self.time_to_live_attribute {
            table = table.set(
                "TimeToLiveSpecification",
                PropValue::object([("AttributeName", attribute.as_str().into()), ("Enabled", true.into())]),
            );
        }
        let table = scope.add(id, table)?;
        scope.stack().skip_check(&table, OWNED_KEY_SKIP.0, OWNED_KEY_SKIP.1)?;
        Ok(TableRef { table, partition_key: self.partition_key, sort_key: self.sort_key })
    }
}

/// What [`Table`] made: the table (`ref_()` is its name) and its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableRef {
    table: CfnRef,
    partition_key: Attribute,
    sort_key: Option<Attribute>,
}

impl TableRef {
    /// The table's name (`Ref`), what the SDKs' `TableName` takes.
    pub fn table_name(&self) -> Expr {
        self.table.ref_()
    }

    /// `Fn::GetAtt [Table, Arn]`.
    pub fn arn(&self) -> Expr {
        self.table.get_att("Arn")
    }

    /// The partition key.
    pub fn partition_key(&self) -> &Attribute {
        &self.partition_key
    }

    /// The sort key, when there is one.
    pub fn sort_key(&self) -> Option<&Attribute> {
        self.sort_key.as_ref()
    }

    /// Lets `grantee` read items ([`READ_DATA_ACTIONS`]) of this table.
    pub fn grant_read_data(&self, stack: &mut Stack, grantee: &impl Grantee) -> Result<(), SynthError> {
        self.grant(stack, grantee, "ReadData", READ_DATA_ACTIONS)
    }

    /// Lets `grantee` write items ([`WRITE_DATA_ACTIONS`]) of this table.
    pub fn grant_write_data(&self, stack: &mut Stack, grantee: &impl Grantee) -> Result<(), SynthError> {
        self.grant(stack, grantee, "WriteData", WRITE_DATA_ACTIONS)
    }

    /// Lets `grantee` read and write items of this table, in one statement.
    pub fn grant_read_write_data(&self, stack: &mut Stack, grantee: &impl Grantee) -> Result<(), SynthError> {
        let mut actions: Vec<&str> = READ_DATA_ACTIONS.iter().chain(WRITE_DATA_ACTIONS).copied().collect();
        actions.sort_unstable();
        actions.dedup();
        self.grant(stack, grantee, "ReadWriteData", &actions)
    }

    fn grant(&self, stack: &mut Stack, grantee: &impl Grantee, verb: &str, actions: &[&str]) -> Result<(), SynthError> {
        stack.add_to_policy(
            grantee,
            Statement::allow()
                .sid(sid(verb, self.table.handle()))
                .actions(actions.iter().copied())
                .resource(self.arn()),
        )
    }
}

impl Reference for TableRef {
    fn handle(&self) -> &ResourceHandle {
        self.table.handle()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resources::iam::Role;
    use crate::{App, AssetManifest};

    #[test]
    fn a_table_is_on_demand_recoverable_and_kept_by_default() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let table =
            stack.construct("Orders", Table::new(Attribute::string("id")).time_to_live_attribute("expires")).unwrap();
        assert_eq!(table.partition_key(), &Attribute::string("id"));
        let t = stack.synth(&AssetManifest::new()).unwrap().template;
        let orders = &t["Resources"]["Orders"];
        assert_eq!(orders["DeletionPolicy"], "Retain");
        assert_eq!(orders["UpdateReplacePolicy"], "Retain");
        assert_eq!(
            orders["Properties"]["PointInTimeRecoverySpecification"],
            json!({"PointInTimeRecoveryEnabled": true})
        );
        assert_eq!(orders["Properties"]["KeySchema"], json!([{"AttributeName": "id", "KeyType": "HASH"}]));
        assert_eq!(orders["Properties"]["TimeToLiveSpecification"]["AttributeName"], "expires");
        let error = Stack::new(&App::new(), "S")
            .unwrap()
            .construct("T", Table::new(Attribute::string("id")).sort_key(Attribute::number("id")))
            .unwrap_err();
        assert!(error.to_string().starts_with("S/T: the sort key and the partition key are both `id`"), "{error}");
    }

    #[test]
    fn read_write_is_one_statement_on_the_table_only() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
        let table = stack.construct("Orders", Table::new(Attribute::string("id"))).unwrap();
        table.grant_read_write_data(&mut stack, &role).unwrap();
        table.grant_read_data(&mut stack, &role).unwrap();
        let t = stack.synth(&AssetManifest::new()).unwrap().template;
        let statements = &t["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(statements[0]["Sid"], "ReadWriteDataOrders");
        let actions = statements[0]["Action"].as_array().unwrap();
        assert_eq!(
            statements[0]["Action"],
            json!([
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:Scan",
                "dynamodb:UpdateItem"
            ]),
            "{actions:?}"
        );
        assert_eq!(statements[0]["Resource"], json!([{"Fn::GetAtt": ["Orders", "Arn"]}]));
        assert_eq!(statements[1]["Sid"], "ReadDataOrders");
        assert_eq!(statements[1]["Action"], json!(READ_DATA_ACTIONS));
        assert!(!statements[1]["Action"].to_string().contains("PutItem"));
        assert_eq!(statements[1]["Resource"], json!([{"Fn::GetAtt": ["Orders", "Arn"]}]));
        assert_eq!(statements.as_array().unwrap().len(), 2);
    }
}
