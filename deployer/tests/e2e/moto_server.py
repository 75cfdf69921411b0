"""moto server, with the pieces its CloudFormation (moto 5.2.5) lacks for a stack that publishes versions and
triggers a function through its alias: the `AWS::Lambda::Alias` resource type, and `AWS::Lambda::Version`'s `Ref`
(the version's ARN) and `Version` attribute.

Without them moto skips every alias (with a warning), an event source mapping that names one fails to create, and a
variable holding a version's `Ref` becomes an object moto's Lambda API cannot serialize, so the example app could
not be deployed at all. Both are written against moto's own model interface and act
through its Lambda backend: the alias a stack declares is the one moto's Lambda API then serves (GetAlias,
UpdateAlias, an event source mapping naming it). Everything else is moto as released.

Usage: python moto_server.py [moto_server's arguments]
"""

import sys

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaVersion
from moto.awslambda.utils import get_backend
from moto.core.common_models import CloudFormationModel
from moto.server import main


def _backend(account_id, region_name):
    # The backend moto's own Lambda models use: without Docker, its "simple" one.
    return get_backend(account_id, region_name)


class Alias(CloudFormationModel):
    """`AWS::Lambda::Alias`: Ref is the alias ARN, as CloudFormation gives it."""

    # moto files its models by service, read from the module's name.
    __module__ = "moto.awslambda.models"

    def __init__(self, alias, function_name):
        self.alias = alias
        self.function_name = function_name

    @staticmethod
    def cloudformation_type():
        return "AWS::Lambda::Alias"

    @staticmethod
    def cloudformation_name_type():
        return ""

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("AliasArn",)

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "AliasArn":
            return self.alias.arn
        raise NotImplementedError(attribute_name)

    @property
    def physical_resource_id(self):
        return self.alias.arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        function = properties["FunctionName"]
        alias = _backend(account_id, region_name).create_alias(
            name=properties["Name"],
            function_name=function,
            function_version=str(properties["FunctionVersion"]),
            description=properties.get("Description", ""),
            routing_config=properties.get("RoutingConfig"),
        )
        return cls(alias, function)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json["Properties"]
        alias = _backend(account_id, region_name).update_alias(
            name=properties["Name"],
            function_name=original_resource.function_name,
            function_version=str(properties["FunctionVersion"]),
            description=properties.get("Description", ""),
            routing_config=properties.get("RoutingConfig"),
        )
        return cls(alias, original_resource.function_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        # The physical id, the alias ARN, names both (the properties may still hold unresolved references).
        function_name, name = resource_name.split(":")[-2:]
        try:
            _backend(account_id, region_name).delete_alias(name, function_name)
        except UnknownFunctionException:
            # moto deleted the function first; with it went its aliases, as on AWS.
            pass

    def is_created(self):
        return True


_create_version = LambdaVersion.create_from_cloudformation_json.__func__


def _create_version_keeping_its_arn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    version = _create_version(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    function = _backend(account_id, region_name).get_function(cloudformation_json["Properties"]["FunctionName"])
    version.arn = f"{function.function_arn.rsplit(':$LATEST', 1)[0]}:{version.version}"
    return version


def _version_attribute(self, attribute_name):
    if attribute_name == "Version":
        return str(self.version)
    raise NotImplementedError(attribute_name)


LambdaVersion.create_from_cloudformation_json = classmethod(_create_version_keeping_its_arn)
LambdaVersion.get_cfn_attribute = _version_attribute
LambdaVersion.physical_resource_id = property(lambda self: self.arn)

if __name__ == "__main__":
    sys.exit(main())
