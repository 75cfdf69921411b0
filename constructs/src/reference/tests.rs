//! Unit tests of the parent module.
#![allow(clippy::unwrap_used)]

use super::*;

struct Ids;
impl Resolve for Ids {
    fn logical_id(&self, handle: &ResourceHandle) -> Result<&str, SynthError> {
        match handle.index() {
            0 => Ok("Processor"),
            _ => Err(SynthError::UnresolvedReference {
                path: String::new(),
                target: handle.path().to_owned(),
                stack: "s".into(),
            }),
        }
    }
}

fn processor() -> FunctionRef {
    FunctionRef::new(ResourceHandle::new("s", 0, "s/Processor".into()))
}

#[test]
fn ref_and_get_att_render_the_logical_id() {
    let f = processor();
    assert_eq!(f.ref_().render(&Ids).unwrap(), json!({"Ref": "Processor"}));
    assert_eq!(f.arn().render(&Ids).unwrap(), json!({"Fn::GetAtt": ["Processor", "Arn"]}));
}

#[test]
fn sub_renders_typed_parts_and_escapes_literals() {
    let f = processor();
    let e = Sub::new().value(f.arn()).text(":*").build();
    assert_eq!(e.render(&Ids).unwrap(), json!({"Fn::Sub": "${Processor.Arn}:*"}));
    let e = Sub::new()
        .text("${not-a-var}-")
        .value(Pseudo::AccountId)
        .value(Sub::new().text("/").value(f.ref_()).build())
        .build();
    assert_eq!(e.render(&Ids).unwrap(), json!({"Fn::Sub": "${!not-a-var}-${AWS::AccountId}/${Processor}"}));
}

#[test]
fn qualified_arns_cover_every_version_of_one_function() {
    assert_eq!(
        processor().qualified_arns().render(&Ids).unwrap(),
        json!({"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Processor}:*"})
    );
}

#[test]
fn sub_without_references_is_a_plain_string() {
    let e = Sub::new().text("a").text("${b}").build();
    assert_eq!(e.render(&Ids).unwrap(), json!("a${b}"));
}

#[test]
fn pseudo_parameters_render_as_refs() {
    assert_eq!(Expr::from(Pseudo::Region).render(&Ids).unwrap(), json!({"Ref": "AWS::Region"}));
}

#[test]
fn unresolved_references_are_errors() {
    let other = FunctionRef::new(ResourceHandle::new("s", 7, "s/Later".into()));
    let err = Sub::new().value(other.arn()).build().render(&Ids).unwrap_err();
    assert!(err.to_string().contains("s/Later"), "{err}");
}

#[test]
fn split_pieces_become_variables_of_a_sub() {
    let uid = Expr::split_select(Expr::split_select(Pseudo::StackId, "/", 2), "-", 0);
    let name = Sub::new().text("assets-").value(Pseudo::AccountId).text("-").value(uid).build();
    assert_eq!(
        name.render(&Ids).unwrap(),
        json!({"Fn::Sub": ["assets-${AWS::AccountId}-${V1}", {"V1": {"Fn::Select": [0, {"Fn::Split": ["-",
            {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]}]}}]})
    );
}
