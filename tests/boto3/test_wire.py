"""Wire-format tests of the runway AWS simulator through boto3, an independent client.

Every response the simulator sends is checked against botocore's service model before boto3 parses
it: successful bodies must match the operation's output shape strictly (required members present,
no unknown members, enums valid, types right) and error bodies must carry a `__type` that the
operation models (or ThrottlingException, which the SDKs treat as throttling everywhere, or one of
AWS's common errors). STS speaks the awsQuery protocol: its XML answers are checked the same way,
element by element, and its errors must be `<ErrorResponse>`s with a modeled or common code.

The simulator comes from RUNWAY_SIM_ENDPOINT if set; otherwise the test starts
`$RUNWAY_BIN simulate-aws --listen 127.0.0.1:0` (RUNWAY_BIN defaults to target/debug/runway) and
reads the endpoint from its first line of output.

Run with: python -m unittest tests/boto3/test_wire.py (scripts/test-boto3 does this in a venv).
"""

import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
STAGE = 60.0
INFRA_ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRole"
EXEC_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
THROTTLING = "ThrottlingException"
DEFAULT_ACCOUNT = "123456789012"
# Given to the simulator by --role (tests/boto3 exercises the flag); team B is added by the control
# endpoint in the tests that need it.
TEAM_A = "arn:aws:iam::210987654321:role/runway-team-a"
TEAM_A_EXTERNAL_ID = "team-a-secret"
TEAM_B = "arn:aws:iam::345678901234:role/runway-team-b"

ECS_OPERATIONS = {
    "CreateExpressGatewayService",
    "UpdateExpressGatewayService",
    "DescribeExpressGatewayService",
    "DeleteExpressGatewayService",
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "DescribeServiceRevisions",
    "CreateService",
    "UpdateService",
    "DescribeServices",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
}
APPRUNNER_OPERATIONS = {
    "CreateService",
    "UpdateService",
    "DescribeService",
    "DeleteService",
    "ListServices",
    "ListOperations",
    "PauseService",
    "ResumeService",
    "StartDeployment",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
    "CreateAutoScalingConfiguration",
    "DescribeAutoScalingConfiguration",
    "ListAutoScalingConfigurations",
    "DeleteAutoScalingConfiguration",
    "CreateVpcConnector",
    "DescribeVpcConnector",
    "ListVpcConnectors",
    "DeleteVpcConnector",
    "CreateVpcIngressConnection",
    "DescribeVpcIngressConnection",
    "ListVpcIngressConnections",
    "DeleteVpcIngressConnection",
}
STS_OPERATIONS = {"AssumeRole", "GetCallerIdentity"}

# AWS's common errors (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html
# for the JSON services, https://docs.aws.amazon.com/cloudsearch/latest/developerguide/CommonErrors.html
# for awsQuery) that any operation may answer although no model declares them, with their status.
# ECS models AccessDeniedException itself (without a status, so 400).
JSON_COMMON_ERRORS = {
    "AccessDeniedException": 403,
    "ExpiredTokenException": 403,
    "UnrecognizedClientException": 403,
}
QUERY_COMMON_ERRORS = {
    "AccessDenied": 403,
    "ValidationError": 400,
    "ExpiredToken": 403,
    "InvalidClientTokenId": 403,
}

_process = None
ENDPOINT = None
VALIDATED = set()  # (service, operation, "ok" | error code)


class ShapeError(AssertionError):
    pass


def check_shape(shape, value, path):
    """Strictly validates one decoded JSON value against a botocore shape."""
    if value is None:
        raise ShapeError(f"{path}: null is never sent by AWS")
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected object for {shape.name}, got {value!r}")
        unknown = set(value) - set(shape.members)
        if unknown:
            raise ShapeError(f"{path}: members {sorted(unknown)} are not in {shape.name}")
        missing = set(shape.required_members) - set(value)
        if missing:
            raise ShapeError(f"{path}: required members {sorted(missing)} of {shape.name} missing")
        for name, member in value.items():
            check_shape(shape.members[name], member, f"{path}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected list, got {value!r}")
        if "min" in meta and len(value) < meta["min"] or "max" in meta and len(value) > meta["max"]:
            raise ShapeError(f"{path}: list length {len(value)} outside {meta}")
        for i, item in enumerate(value):
            check_shape(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected map, got {value!r}")
        for key, item in value.items():
            check_shape(shape.key, key, f"{path}<key>")
            check_shape(shape.value, item, f"{path}[{key}]")
    elif kind == "string":
        if not isinstance(value, str):
            raise ShapeError(f"{path}: expected string, got {value!r}")
        if shape.enum and value not in shape.enum:
            raise ShapeError(f"{path}: {value!r} is not one of {shape.enum}")
        if "min" in meta and len(value) < meta["min"] or "max" in meta and len(value) > meta["max"]:
            raise ShapeError(f"{path}: string length {len(value)} outside {meta}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ShapeError(f"{path}: expected integer, got {value!r}")
        if "min" in meta and value < meta["min"] or "max" in meta and value > meta["max"]:
            raise ShapeError(f"{path}: {value} outside {meta}")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ShapeError(f"{path}: expected number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ShapeError(f"{path}: expected boolean, got {value!r}")
    elif kind == "timestamp":
        # awsJson timestamps are epoch seconds.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ShapeError(f"{path}: expected epoch seconds, got {value!r}")
    else:
        raise ShapeError(f"{path}: unexpected shape type {kind}")


# Errors that real accounts answer although the operation's model does not declare them
# (docs/aws-behaviour.md E3 and X2). Anything else undeclared fails the test.
OBSERVED_UNDECLARED = {
    ("ecs", "DescribeExpressGatewayService", "ServiceNotActiveException"),
}


def local(tag):
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def check_xml_shape(shape, element, path):
    """Strictly validates one XML element against a botocore shape, as the query protocol sends it."""
    kind = shape.type_name
    meta = shape.metadata
    text = element.text or ""
    if kind == "structure":
        names = {member.serialization.get("name", name): name for name, member in shape.members.items()}
        seen = [local(child.tag) for child in element]
        unknown = set(seen) - set(names)
        if unknown:
            raise ShapeError(f"{path}: elements {sorted(unknown)} are not in {shape.name}")
        if len(seen) != len(set(seen)):
            raise ShapeError(f"{path}: repeated elements {seen}")
        missing = {n for n, name in names.items() if name in shape.required_members} - set(seen)
        if missing:
            raise ShapeError(f"{path}: required elements {sorted(missing)} of {shape.name} missing")
        for child in element:
            tag = local(child.tag)
            check_xml_shape(shape.members[names[tag]], child, f"{path}.{tag}")
    elif kind == "string":
        if len(element):
            raise ShapeError(f"{path}: expected text, got child elements")
        if shape.enum and text not in shape.enum:
            raise ShapeError(f"{path}: {text!r} is not one of {shape.enum}")
        if "min" in meta and len(text) < meta["min"] or "max" in meta and len(text) > meta["max"]:
            raise ShapeError(f"{path}: string length {len(text)} outside {meta}")
    elif kind in ("integer", "long"):
        try:
            value = int(text)
        except ValueError:
            raise ShapeError(f"{path}: expected an integer, got {text!r}") from None
        if "min" in meta and value < meta["min"] or "max" in meta and value > meta["max"]:
            raise ShapeError(f"{path}: {value} outside {meta}")
    elif kind == "timestamp":
        # awsQuery timestamps are ISO 8601 in UTC.
        if not text.endswith("Z"):
            raise ShapeError(f"{path}: expected an ISO 8601 UTC timestamp, got {text!r}")
        try:
            datetime.fromisoformat(text[:-1] + "+00:00")
        except ValueError:
            raise ShapeError(f"{path}: {text!r} is not ISO 8601") from None
    else:
        raise ShapeError(f"{path}: unexpected shape type {kind}")


def validate_query_response(operation_model, response_dict):
    """Checks an awsQuery (STS) response: XML in the service's namespace, result or ErrorResponse."""
    service = operation_model.service_model
    namespace = service.metadata["xmlNamespace"]
    headers = {k.lower(): v for k, v in response_dict["headers"].items()}
    assert headers.get("content-type", "").startswith("text/xml"), headers
    request_id = headers.get("x-amzn-requestid")
    assert request_id, "x-amzn-requestid header missing"
    root = ET.fromstring(response_dict["body"])
    status = response_dict["status_code"]
    name = operation_model.name
    if status < 300:
        assert root.tag == f"{{{namespace}}}{name}Response", root.tag
        assert [local(child.tag) for child in root] == [f"{name}Result", "ResponseMetadata"], list(root)
        check_xml_shape(operation_model.output_shape, root[0], name)
        assert root[1].findtext(f"{{{namespace}}}RequestId") == request_id
        VALIDATED.add((service.service_name, name, "ok"))
        return
    assert root.tag == f"{{{namespace}}}ErrorResponse", root.tag
    assert [local(child.tag) for child in root] == ["Error", "RequestId"], list(root)
    assert root.findtext(f"{{{namespace}}}RequestId") == request_id
    error = {local(child.tag): child.text for child in root[0]}
    assert set(error) == {"Type", "Code", "Message"}, error
    code = error["Code"]
    assert error["Type"] == ("Receiver" if status >= 500 else "Sender"), (error, status)
    modeled = {shape.error_code: shape for shape in operation_model.error_shapes}
    if code in modeled:
        assert status == modeled[code].metadata["error"]["httpStatusCode"], (code, status)
    else:
        assert code in QUERY_COMMON_ERRORS, f"{name} does not model {code}: {error}"
        assert status == QUERY_COMMON_ERRORS[code], (code, status)
    VALIDATED.add((service.service_name, name, code))


def validate_response(operation_model, response_dict, **_):
    """before-parse hook: checks the raw response against the operation's model."""
    service = operation_model.service_model
    if service.metadata["protocol"] == "query":
        validate_query_response(operation_model, response_dict)
        return
    protocol_type = f"application/x-amz-json-{service.metadata['jsonVersion']}"
    headers = {k.lower(): v for k, v in response_dict["headers"].items()}
    assert headers.get("content-type") == protocol_type, headers
    assert headers.get("x-amzn-requestid"), "x-amzn-requestid header missing"
    body = json.loads(response_dict["body"] or b"{}")
    status = response_dict["status_code"]
    name = service.service_name
    if status < 300:
        check_shape(operation_model.output_shape, body, operation_model.name)
        VALIDATED.add((name, operation_model.name, "ok"))
        return
    code = body.get("__type")
    assert headers.get("x-amzn-errortype") == code, (headers, body)
    if code == THROTTLING:
        assert status == 400, status
        message_key = "message" if name == "ecs" else "Message"
        assert set(body) == {"__type", message_key}, body
    else:
        modeled = {shape.name: shape for shape in operation_model.error_shapes}
        if (name, operation_model.name, code) in OBSERVED_UNDECLARED:
            # Real accounts answer it although the operation does not declare it (aws-behaviour X2);
            # the error shape itself must still match the service's model.
            modeled[code] = service.shape_for(code)
        if code not in modeled and code in JSON_COMMON_ERRORS:
            message_key = "message" if name == "ecs" else "Message"
            assert set(body) == {"__type", message_key}, body
            assert status == JSON_COMMON_ERRORS[code], (code, status)
            VALIDATED.add((name, operation_model.name, code))
            return
        assert code in modeled, f"{operation_model.name} does not model {code}: {body}"
        error_shape = modeled[code]
        members = {k: v for k, v in body.items() if k != "__type"}
        check_shape(error_shape, members, code)
        expected_status = error_shape.metadata.get("error", {}).get("httpStatusCode")
        if expected_status:
            assert status == expected_status, (code, status, expected_status)
        elif code in ("ServerException", "InternalServiceErrorException"):
            assert status == 500, (code, status)
        else:
            assert status == 400, (code, status)
    VALIDATED.add((name, operation_model.name, code))


def control(path, body=None, method="POST"):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        ENDPOINT + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def advance(seconds):
    control("/_sim/advance", {"seconds": seconds})


def client(service, attempts=1, region="us-east-1", credentials=None, validate_parameters=True):
    """A client signing as the default account's AKIDSIMULATOR, or with STS `credentials`."""
    keys = {"aws_access_key_id": "AKIDSIMULATOR", "aws_secret_access_key": "simulator-secret"}
    if credentials is not None:
        keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
    c = boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        config=Config(
            retries={"total_max_attempts": attempts, "mode": "standard"},
            parameter_validation=validate_parameters,
        ),
        **keys,
    )
    c.meta.events.register("before-parse.*.*", validate_response)
    return c


def error_code(call, *args, **kwargs):
    return client_error(call, *args, **kwargs)["Code"]


def client_error(call, *args, **kwargs):
    """The `Error` member of the ClientError a call raises."""
    try:
        call(*args, **kwargs)
    except ClientError as err:
        return err.response["Error"]
    raise AssertionError(f"{call.__name__} succeeded but an error was expected")


def setUpModule():
    global _process, ENDPOINT
    ENDPOINT = os.environ.get("RUNWAY_SIM_ENDPOINT")
    if ENDPOINT:
        return
    binary = os.environ.get("RUNWAY_BIN", str(ROOT / "target" / "debug" / "runway"))
    _process = subprocess.Popen(
        [
            binary,
            "simulate-aws",
            "--listen",
            "127.0.0.1:0",
            "--ecs-rollout-seconds",
            str(STAGE),
            "--ecs-drain-seconds",
            str(STAGE),
            "--ecs-inactive-seconds",
            str(STAGE),
            "--apprunner-operation-seconds",
            str(STAGE),
            "--apprunner-deleted-seconds",
            str(STAGE),
            "--role",
            f"{TEAM_A},trust={DEFAULT_ACCOUNT},external-id={TEAM_A_EXTERNAL_ID}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    seen = []
    for _ in range(50):
        line = _process.stdout.readline()
        if not line:
            break
        seen.append(line.strip())
        if line.startswith("runway simulate-aws listening on http://"):
            ENDPOINT = line.strip().rsplit(" ", 1)[1]
            return
    _process.kill()
    raise RuntimeError(f"the simulator did not print its endpoint: {seen!r}")


def tearDownModule():
    if _process is not None:
        _process.terminate()
        _process.wait(timeout=10)


class SimTestCase(unittest.TestCase):
    def setUp(self):
        control("/_sim/faults", {})
        control("/_sim/reset", {"state": True})


def container(image):
    return {"image": image, "environment": [{"name": "MODE", "value": "prod"}]}


class EcsWireTest(SimTestCase):
    def create(self, ecs, name="web", **extra):
        out = ecs.create_express_gateway_service(
            serviceName=name,
            infrastructureRoleArn=INFRA_ROLE,
            executionRoleArn=EXEC_ROLE,
            primaryContainer=container("public.ecr.aws/nginx/nginx:1.27"),
            **extra,
        )
        return out["service"]["serviceArn"]

    def statuses(self, ecs, arn):
        listed = ecs.list_service_deployments(service=arn)["serviceDeployments"]
        return [d["status"] for d in listed]

    def test_express_service_lifecycle(self):
        ecs = client("ecs")
        arn = self.create(ecs, tags=[{"key": "team", "value": "a"}])
        described = ecs.describe_express_gateway_service(serviceArn=arn, include=["TAGS"])
        service = described["service"]
        self.assertEqual(service["status"]["statusCode"], "ACTIVE")
        # The caller's tag, plus the managed tag AWS adds itself (docs/aws-behaviour.md E19).
        self.assertEqual(service["tags"], [{"key": "team", "value": "a"}, {"key": "AmazonECSManaged", "value": "true"}])
        [config] = service["activeConfigurations"]
        self.assertEqual(config["ingressPaths"][0]["accessType"], "PUBLIC")
        self.assertTrue(config["ingressPaths"][0]["endpoint"].endswith(".ecs.us-east-1.on.aws"))
        # Deployments start PENDING (E8); the cluster is reported as an ARN (E18); ECS adds its
        # managed security group (E1).
        self.assertEqual(self.statuses(ecs, arn), ["PENDING"])
        self.assertEqual(service["cluster"], "arn:aws:ecs:us-east-1:123456789012:cluster/default")
        [managed] = config["networkConfiguration"]["securityGroups"]
        self.assertRegex(managed, r"^sg-[0-9a-f]{17}$")
        advance(STAGE)
        self.assertEqual(self.statuses(ecs, arn), ["SUCCESSFUL"])

        updated = ecs.update_express_gateway_service(
            serviceArn=arn,
            primaryContainer={"image": "public.ecr.aws/nginx/nginx:1.28"},
            scalingTarget={"maxTaskCount": 5},
        )
        target = updated["service"]["targetConfiguration"]
        self.assertEqual(target["primaryContainer"]["environment"], [{"name": "MODE", "value": "prod"}])
        service = ecs.describe_express_gateway_service(serviceArn=arn)["service"]
        self.assertEqual(len(service["activeConfigurations"]), 2)
        deployments = ecs.list_service_deployments(service=arn, maxResults=1)
        self.assertIn("nextToken", deployments)
        newest = deployments["serviceDeployments"][0]["serviceDeploymentArn"]
        described = ecs.describe_service_deployments(
            serviceDeploymentArns=[newest, arn.replace(":service/", ":service-deployment/") + "/nope"]
        )
        self.assertEqual(len(described["serviceDeployments"]), 1)
        self.assertEqual(described["failures"][0]["reason"], "MISSING")

        forced = ecs.update_service(service=arn, forceNewDeployment=True)
        self.assertEqual(forced["service"]["deployments"][0]["status"], "PRIMARY")
        self.assertEqual(self.statuses(ecs, arn), ["PENDING", "STOPPED", "SUCCESSFUL"])
        services = ecs.describe_services(services=["web", "missing"], include=["TAGS"])
        self.assertEqual(services["services"][0]["resourceManagementType"], "ECS")
        self.assertEqual(services["services"][0]["clusterArn"], "arn:aws:ecs:us-east-1:123456789012:cluster/default")
        self.assertEqual(services["failures"][0]["reason"], "MISSING")
        advance(STAGE)
        after = ecs.list_service_deployments(
            service="web", cluster="default", status=["SUCCESSFUL"], createdAt={"after": 0}
        )
        self.assertEqual(len(after["serviceDeployments"]), 2)

        control("/_sim/inject", {"service": "ecs", "name": "web", "kind": "rollback"})
        ecs.update_express_gateway_service(serviceArn=arn, cpu="1024")
        advance(STAGE * 0.6)
        self.assertEqual(self.statuses(ecs, arn)[0], "ROLLBACK_IN_PROGRESS")
        advance(STAGE)
        newest = ecs.list_service_deployments(service=arn)["serviceDeployments"][0]
        self.assertEqual(newest["status"], "ROLLBACK_SUCCESSFUL")
        full = ecs.describe_service_deployments(serviceDeploymentArns=[newest["serviceDeploymentArn"]])
        self.assertIn("rollback", full["serviceDeployments"][0])
        self.assertEqual(ecs.describe_services(services=[arn])["services"][0]["deployments"][0]["rolloutState"], "FAILED")

        deleted = ecs.delete_express_gateway_service(serviceArn=arn)
        self.assertEqual(deleted["service"]["status"]["statusCode"], "DRAINING")
        self.assertEqual(
            error_code(ecs.update_express_gateway_service, serviceArn=arn, cpu="512"),
            "ServiceNotActiveException",
        )
        self.assertEqual(error_code(ecs.delete_express_gateway_service, serviceArn=arn), "ServiceNotActiveException")
        self.assertEqual(
            error_code(ecs.update_service, service=arn, forceNewDeployment=True),
            "ServiceNotActiveException",
        )
        advance(STAGE)
        # Real accounts: INACTIVE is an error, and a gone service is "Resource not found" (E2, E3).
        self.assertEqual(error_code(ecs.describe_express_gateway_service, serviceArn=arn), "ServiceNotActiveException")
        advance(STAGE)
        self.assertEqual(error_code(ecs.describe_express_gateway_service, serviceArn=arn), "InvalidParameterException")
        self.assertEqual(error_code(ecs.delete_express_gateway_service, serviceArn=arn), "InvalidParameterException")
        self.assertEqual(error_code(ecs.list_service_deployments, service=arn), "ServiceNotFoundException")

    def test_service_revisions_report_the_resources_ecs_manages(self):
        ecs = client("ecs")
        control("/_sim/inject", {"service": "ecs", "name": "web", "kind": "load_balancer_failed"})
        arn = self.create(ecs)
        [config] = ecs.describe_express_gateway_service(serviceArn=arn)["service"]["activeConfigurations"]
        revision = config["serviceRevisionArn"]
        advance(STAGE)
        out = ecs.describe_service_revisions(serviceRevisionArns=[revision, revision + "0"])
        self.assertEqual(out["failures"], [{"arn": revision + "0", "reason": "MISSING"}])
        [described] = out["serviceRevisions"]
        self.assertEqual(described["serviceArn"], arn)
        managed = described["ecsManagedResources"]
        [path] = managed["ingressPaths"]
        self.assertEqual(path["endpoint"], config["ingressPaths"][0]["endpoint"])
        # The injected failure: the load balancer is FAILED with a reason, the rest ACTIVE.
        self.assertEqual(path["loadBalancer"]["status"], "FAILED")
        self.assertIn("statusReason", path["loadBalancer"])
        self.assertRegex(
            path["loadBalancer"]["arn"],
            r"^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/ecs-express-gateway-alb-",
        )
        others = [path["listener"], path["rule"], path["certificate"], *path["targetGroups"],
                  *path["loadBalancerSecurityGroups"], *managed["serviceSecurityGroups"],
                  managed["autoScaling"]["scalableTarget"], *managed["autoScaling"]["applicationAutoScalingPolicies"],
                  *managed["metricAlarms"], *managed["logGroups"]]
        self.assertEqual({r["status"] for r in others}, {"ACTIVE"})
        self.assertEqual(described["loadBalancers"][0]["targetGroupArn"], path["targetGroups"][0]["arn"])
        self.assertEqual(error_code(ecs.describe_service_revisions, serviceRevisionArns=[]), "InvalidParameterException")

    def test_tagging_changes_tags_only(self):
        ecs = client("ecs")
        arn = self.create(ecs, tags=[{"key": "team", "value": "a"}])
        before = ecs.describe_express_gateway_service(serviceArn=arn)["service"]
        ecs.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}, {"key": "team", "value": "b"}])
        managed = {"key": "AmazonECSManaged", "value": "true"}
        listed = ecs.list_tags_for_resource(resourceArn=arn)["tags"]
        self.assertEqual(listed, [{"key": "team", "value": "b"}, {"key": "env", "value": "prod"}, managed])
        # The same list Describe reports with include TAGS (docs/aws-behaviour.md E19, E30).
        described = ecs.describe_express_gateway_service(serviceArn=arn, include=["TAGS"])["service"]
        self.assertEqual(described["tags"], listed)
        ecs.untag_resource(resourceArn=arn, tagKeys=["env", "never-set"])
        listed = ecs.list_tags_for_resource(resourceArn=arn)["tags"]
        self.assertEqual(listed, [{"key": "team", "value": "b"}, managed])
        # No deployment, no new revision, updatedAt unchanged.
        after = ecs.describe_express_gateway_service(serviceArn=arn)["service"]
        self.assertEqual(after["updatedAt"], before["updatedAt"])
        self.assertEqual(after["activeConfigurations"], before["activeConfigurations"])
        self.assertEqual(self.statuses(ecs, arn), ["PENDING"])

        invalid = "InvalidParameterException"
        for tags in (
            [{"key": "aws:team", "value": "a"}],
            [{"key": "team", "value": "AWS:a"}],
            [{"key": "team#", "value": "a"}],
            [{"key": "k" * 129, "value": "a"}],
            [{"key": "team", "value": "v" * 257}],
            [{"key": f"k{i}", "value": "v"} for i in range(51)],
        ):
            self.assertEqual(error_code(ecs.tag_resource, resourceArn=arn, tags=tags), invalid, tags)
        self.assertEqual(error_code(ecs.untag_resource, resourceArn=arn, tagKeys=["aws:team"]), invalid)
        missing = "arn:aws:ecs:us-east-1:123456789012:service/default/missing"
        not_found = "ResourceNotFoundException"
        self.assertEqual(error_code(ecs.tag_resource, resourceArn=missing, tags=[{"key": "a"}]), not_found)
        self.assertEqual(error_code(ecs.untag_resource, resourceArn=missing, tagKeys=["a"]), not_found)
        # ListTagsForResource declares no not-found code: it answers like the Express calls (E2).
        self.assertEqual(error_code(ecs.list_tags_for_resource, resourceArn=missing), invalid)
        short = "arn:aws:ecs:us-east-1:123456789012:service/web"
        self.assertEqual(error_code(ecs.tag_resource, resourceArn=short, tags=[{"key": "a", "value": "b"}]), invalid)
        nowhere = "arn:aws:ecs:us-east-1:123456789012:service/nowhere/web"
        self.assertEqual(error_code(ecs.list_tags_for_resource, resourceArn=nowhere), "ClusterNotFoundException")
        # 49 more make 50 of the caller's (the managed tag does not count); one more is over the limit.
        ecs.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(49)])
        self.assertEqual(
            error_code(ecs.tag_resource, resourceArn=arn, tags=[{"key": "one-more", "value": "v"}]),
            "LimitExceededException",
        )
        # NB: not listed here: 50 tags plus the managed one exceed the model's `Tags` max of 50,
        # which this harness enforces on responses too.

    def test_custom_task_definitions_and_classic_services_answer_in_the_model_shapes(self):
        ecs = client("ecs")
        # docs/aws-behaviour.md E31, E32: a container derived from the task definition, no
        # cpuArchitecture, and the revision ECS resolved for a family named without one.
        family = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker"
        created = ecs.create_express_gateway_service(
            serviceName="worker", infrastructureRoleArn=INFRA_ROLE, taskDefinitionArn=family
        )["service"]
        config = ecs.describe_express_gateway_service(serviceArn=created["serviceArn"])["service"][
            "activeConfigurations"
        ][0]
        self.assertEqual(config["taskDefinitionArn"], family + ":1")
        self.assertIn("image", config["primaryContainer"])
        self.assertNotIn("cpuArchitecture", config)
        # E33: a classic service, which the Express calls refuse.
        classic = ecs.create_service(serviceName="legacy", taskDefinition="legacy:2", desiredCount=1)["service"]
        self.assertEqual(classic["resourceManagementType"], "CUSTOMER")
        described = ecs.describe_services(services=["legacy"], include=["TAGS"])["services"][0]
        self.assertEqual(described["resourceManagementType"], "CUSTOMER")
        self.assertEqual(
            error_code(ecs.describe_express_gateway_service, serviceArn=classic["serviceArn"]),
            "InvalidParameterException",
        )

    def test_validation_errors_are_modeled_ecs_exceptions(self):
        ecs = client("ecs")
        self.assertEqual(
            error_code(
                ecs.create_express_gateway_service,
                serviceName="both",
                infrastructureRoleArn=INFRA_ROLE,
                taskDefinitionArn="arn:aws:ecs:us-east-1:123456789012:task-definition/app:1",
                primaryContainer=container("nginx"),
            ),
            "InvalidParameterException",
        )
        self.create(ecs)
        self.assertEqual(
            error_code(
                ecs.create_express_gateway_service,
                serviceName="web",
                infrastructureRoleArn=INFRA_ROLE,
                primaryContainer=container("nginx"),
            ),
            "InvalidParameterException",
        )
        missing = "arn:aws:ecs:us-east-1:123456789012:service/default/missing"
        self.assertEqual(
            error_code(ecs.update_express_gateway_service, serviceArn=missing, cpu="512"),
            "InvalidParameterException",
        )
        self.assertEqual(
            error_code(ecs.update_service, service="web", desiredCount=-1),
            "InvalidParameterException",
        )
        self.assertEqual(ecs.update_service(service="web", desiredCount=3)["service"]["desiredCount"], 3)
        self.assertEqual(
            error_code(ecs.describe_services, services=[]),
            "InvalidParameterException",
        )
        # Fargate task sizes (E20) and clusters nobody created (E21).
        self.assertEqual(
            error_code(
                ecs.create_express_gateway_service,
                serviceName="tiny",
                infrastructureRoleArn=INFRA_ROLE,
                primaryContainer=container("nginx"),
                cpu="512",
                memory="512",
            ),
            "InvalidParameterException",
        )
        self.assertEqual(
            error_code(ecs.describe_services, cluster="nowhere", services=["web"]),
            "ClusterNotFoundException",
        )
        self.assertEqual(
            error_code(ecs.update_service, cluster="nowhere", service="web", forceNewDeployment=True),
            "ClusterNotFoundException",
        )
        # IAM propagation (E12): the role is refused until the window after its first use passes.
        role = "arn:aws:iam::123456789012:role/fresh"
        control("/_sim/inject", {"service": "ecs", "role": role, "kind": "iam_propagation", "seconds": 5})
        with self.assertRaises(ClientError) as refused:
            self.create(ecs, name="fresh", taskRoleArn=role)
        self.assertEqual(refused.exception.response["Error"]["Code"], "AccessDeniedException")
        self.assertIn(f"'{role}'", refused.exception.response["Error"]["Message"])
        advance(5)
        self.create(ecs, name="fresh", taskRoleArn=role)


def image_source(image):
    return {
        "ImageRepository": {
            "ImageIdentifier": image,
            "ImageRepositoryType": "ECR_PUBLIC",
            "ImageConfiguration": {"RuntimeEnvironmentVariables": {"MODE": "prod"}},
        }
    }


class AppRunnerWireTest(SimTestCase):
    def operations(self, apprunner, arn):
        listed = apprunner.list_operations(ServiceArn=arn)["OperationSummaryList"]
        return [(op["Type"], op["Status"]) for op in listed]

    def status(self, apprunner, arn):
        return apprunner.describe_service(ServiceArn=arn)["Service"]["Status"]

    def test_vpc_ingress_connections_block_delete_service(self):
        # docs/aws-behaviour.md A25.
        apprunner = client("apprunner")
        arn = apprunner.create_service(
            ServiceName="private-app", SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1.27")
        )["Service"]["ServiceArn"]
        advance(STAGE)
        connection = apprunner.create_vpc_ingress_connection(
            ServiceArn=arn,
            VpcIngressConnectionName="private-app-in",
            IngressVpcConfiguration={"VpcId": "vpc-0123", "VpcEndpointId": "vpce-0123"},
        )["VpcIngressConnection"]
        connection_arn = connection["VpcIngressConnectionArn"]
        self.assertEqual(connection["Status"], "AVAILABLE")
        described = apprunner.describe_vpc_ingress_connection(VpcIngressConnectionArn=connection_arn)
        self.assertEqual(described["VpcIngressConnection"], connection)
        listed = apprunner.list_vpc_ingress_connections(Filter={"ServiceArn": arn})
        self.assertEqual(
            listed["VpcIngressConnectionSummaryList"], [{"VpcIngressConnectionArn": connection_arn, "ServiceArn": arn}]
        )
        refused = client_error(apprunner.delete_service, ServiceArn=arn)
        self.assertEqual(refused["Code"], "InvalidStateException")
        self.assertIn("VpcIngressConnections with a status of AVAILABLE", refused["Message"])
        deleted = apprunner.delete_vpc_ingress_connection(VpcIngressConnectionArn=connection_arn)
        self.assertEqual(deleted["VpcIngressConnection"]["Status"], "DELETED")
        self.assertIn("DeletedAt", deleted["VpcIngressConnection"])
        self.assertTrue(apprunner.delete_service(ServiceArn=arn)["OperationId"])

    def test_service_lifecycle(self):
        apprunner = client("apprunner")
        created = apprunner.create_service(
            ServiceName="web-app",
            SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1.27"),
            InstanceConfiguration={"Cpu": "1 vCPU", "Memory": "2 GB"},
            HealthCheckConfiguration={"Protocol": "HTTP", "Path": "/health"},
            Tags=[{"Key": "team", "Value": "a"}],
        )
        arn = created["Service"]["ServiceArn"]
        # ListServices reports no tags; ListTagsForResource is how ownership is read (A11).
        tags = apprunner.list_tags_for_resource(ResourceArn=arn)["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "a"}])
        self.assertEqual(created["Service"]["Status"], "OPERATION_IN_PROGRESS")
        self.assertEqual(created["Service"]["InstanceConfiguration"]["Cpu"], "1024")
        self.assertEqual(self.operations(apprunner, arn), [("CREATE_SERVICE", "IN_PROGRESS")])
        source = image_source("public.ecr.aws/nginx/nginx:1.28")
        self.assertEqual(
            error_code(apprunner.update_service, ServiceArn=arn, SourceConfiguration=source),
            "InvalidStateException",
        )
        self.assertEqual(error_code(apprunner.pause_service, ServiceArn=arn), "InvalidStateException")
        self.assertEqual(error_code(apprunner.delete_service, ServiceArn=arn), "InvalidStateException")
        self.assertEqual(error_code(apprunner.start_deployment, ServiceArn=arn), "InvalidRequestException")
        advance(STAGE)
        self.assertEqual(self.status(apprunner, arn), "RUNNING")

        updated = apprunner.update_service(ServiceArn=arn, SourceConfiguration=source)
        self.assertTrue(updated["OperationId"])
        advance(STAGE)
        paused = apprunner.pause_service(ServiceArn=arn)
        self.assertIn("OperationId", paused)
        self.assertEqual(error_code(apprunner.resume_service, ServiceArn=arn), "InvalidStateException")
        advance(STAGE)
        self.assertEqual(self.status(apprunner, arn), "PAUSED")
        apprunner.resume_service(ServiceArn=arn)
        advance(STAGE)
        deployment = apprunner.start_deployment(ServiceArn=arn)
        advance(STAGE)
        ops = apprunner.list_operations(ServiceArn=arn, MaxResults=2)
        self.assertEqual(ops["OperationSummaryList"][0]["Id"], deployment["OperationId"])
        self.assertIn("NextToken", ops)
        self.assertEqual(
            [t for t, _ in self.operations(apprunner, arn)],
            ["START_DEPLOYMENT", "RESUME_SERVICE", "PAUSE_SERVICE", "UPDATE_SERVICE", "CREATE_SERVICE"],
        )

        control("/_sim/inject", {"service": "apprunner", "arn": arn, "kind": "rollback"})
        apprunner.update_service(ServiceArn=arn, SourceConfiguration=image_source("public.ecr.aws/nginx/broken"))
        advance(STAGE * 0.6)
        self.assertEqual(self.operations(apprunner, arn)[0], ("UPDATE_SERVICE", "ROLLBACK_IN_PROGRESS"))
        advance(STAGE)
        self.assertEqual(self.operations(apprunner, arn)[0], ("UPDATE_SERVICE", "ROLLBACK_SUCCEEDED"))
        service = apprunner.describe_service(ServiceArn=arn)["Service"]
        self.assertEqual(service["Status"], "RUNNING")
        self.assertEqual(
            service["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"],
            "public.ecr.aws/nginx/nginx:1.28",
        )

        deleted = apprunner.delete_service(ServiceArn=arn)
        self.assertEqual(deleted["Service"]["Status"], "OPERATION_IN_PROGRESS")
        advance(STAGE)
        self.assertEqual(self.status(apprunner, arn), "DELETED")
        self.assertEqual(apprunner.list_services()["ServiceSummaryList"], [])
        advance(STAGE)
        self.assertEqual(error_code(apprunner.describe_service, ServiceArn=arn), "ResourceNotFoundException")
        self.assertEqual(error_code(apprunner.list_operations, ServiceArn=arn), "ResourceNotFoundException")

    def test_tagging_starts_no_operation(self):
        apprunner = client("apprunner")
        created = apprunner.create_service(
            ServiceName="web-app",
            SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1.27"),
            Tags=[{"Key": "team", "Value": "a"}],
        )
        arn = created["Service"]["ServiceArn"]
        # Accepted while the create operation runs, and none of its own (A21).
        tags = [{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "prod"}, {"Key": "flag"}]
        apprunner.tag_resource(ResourceArn=arn, Tags=tags)
        # A tag without a value comes back without one, never as null.
        self.assertEqual(apprunner.list_tags_for_resource(ResourceArn=arn)["Tags"], tags)
        apprunner.untag_resource(ResourceArn=arn, TagKeys=["env", "flag", "never-set"])
        self.assertEqual(apprunner.list_tags_for_resource(ResourceArn=arn)["Tags"], [{"Key": "team", "Value": "b"}])
        self.assertEqual(self.operations(apprunner, arn), [("CREATE_SERVICE", "IN_PROGRESS")])
        advance(STAGE)
        updated_at = apprunner.describe_service(ServiceArn=arn)["Service"]["UpdatedAt"]
        apprunner.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
        service = apprunner.describe_service(ServiceArn=arn)["Service"]
        self.assertEqual((service["Status"], service["UpdatedAt"]), ("RUNNING", updated_at))
        self.assertEqual(self.operations(apprunner, arn), [("CREATE_SERVICE", "SUCCEEDED")])

        invalid = "InvalidRequestException"
        for tags in (
            [{"Key": "aws:team", "Value": "a"}],
            [{"Key": "AWS:team", "Value": "a"}],
            [{"Key": "k" * 129, "Value": "a"}],
            [{"Key": "team", "Value": "v" * 257}],
            [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
        ):
            self.assertEqual(error_code(apprunner.tag_resource, ResourceArn=arn, Tags=tags), invalid, tags)
        self.assertEqual(error_code(apprunner.untag_resource, ResourceArn=arn, TagKeys=["aws:team"]), invalid)
        # 2 + 48 = 50; one more is over the limit.
        apprunner.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(48)])
        self.assertEqual(len(apprunner.list_tags_for_resource(ResourceArn=arn)["Tags"]), 50)
        self.assertEqual(error_code(apprunner.tag_resource, ResourceArn=arn, Tags=[{"Key": "one-more"}]), invalid)
        missing = "arn:aws:apprunner:us-east-1:123456789012:service/missing/0123456789abcdef0123456789abcdef"
        not_found = "ResourceNotFoundException"
        self.assertEqual(error_code(apprunner.tag_resource, ResourceArn=missing, Tags=[{"Key": "a"}]), not_found)
        self.assertEqual(error_code(apprunner.untag_resource, ResourceArn=missing, TagKeys=["a"]), not_found)

    def test_create_failed_and_listing(self):
        apprunner = client("apprunner")
        control("/_sim/inject", {"service": "apprunner", "name": "broken", "kind": "create_failed"})
        broken = apprunner.create_service(
            ServiceName="broken", SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1")
        )["Service"]["ServiceArn"]
        apprunner.create_service(
            ServiceName="healthy",
            SourceConfiguration={
                "CodeRepository": {
                    "RepositoryUrl": "https://github.com/example/app",
                    "SourceCodeVersion": {"Type": "BRANCH", "Value": "main"},
                    "CodeConfiguration": {
                        "ConfigurationSource": "API",
                        "CodeConfigurationValues": {"Runtime": "PYTHON_311", "Port": "8000"},
                    },
                },
                "AuthenticationConfiguration": {
                    "ConnectionArn": "arn:aws:apprunner:us-east-1:123456789012:connection/gh/0123456789abcdef"
                },
            },
            NetworkConfiguration={"IngressConfiguration": {"IsPubliclyAccessible": False}},
            ObservabilityConfiguration={"ObservabilityEnabled": False},
        )
        advance(STAGE)
        self.assertEqual(self.status(apprunner, broken), "CREATE_FAILED")
        self.assertEqual(self.operations(apprunner, broken), [("CREATE_SERVICE", "FAILED")])
        first = apprunner.list_services(MaxResults=1)
        second = apprunner.list_services(MaxResults=1, NextToken=first["NextToken"])
        names = [s["ServiceName"] for s in first["ServiceSummaryList"] + second["ServiceSummaryList"]]
        self.assertEqual(names, ["broken", "healthy"])
        self.assertEqual(
            error_code(
                apprunner.create_service,
                ServiceName="healthy",
                SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1"),
            ),
            "InvalidRequestException",
        )

    def test_auto_scaling_configurations_and_vpc_connectors(self):
        # docs/aws-behaviour.md A22 and A23.
        apprunner = client("apprunner")
        prefix = "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration"
        default_arn = f"{prefix}/DefaultConfiguration/1/00000000000000000000000000000001"
        default = apprunner.describe_auto_scaling_configuration(
            AutoScalingConfigurationArn=f"{prefix}/DefaultConfiguration"
        )["AutoScalingConfiguration"]
        self.assertEqual(default["AutoScalingConfigurationArn"], default_arn)
        self.assertEqual(
            {k: default[k] for k in ("MaxConcurrency", "MinSize", "MaxSize", "IsDefault", "Latest", "Status")},
            {"MaxConcurrency": 100, "MinSize": 1, "MaxSize": 25, "IsDefault": True, "Latest": True, "Status": "ACTIVE"},
        )
        self.assertNotIn("DeletedAt", default)
        first = apprunner.create_auto_scaling_configuration(
            AutoScalingConfigurationName="fast", MaxConcurrency=50, MinSize=2, MaxSize=10,
            Tags=[{"Key": "team", "Value": "a"}],
        )["AutoScalingConfiguration"]
        self.assertRegex(first["AutoScalingConfigurationArn"], rf"^{prefix}/fast/1/[0-9a-f]{{32}}$")
        second = apprunner.create_auto_scaling_configuration(AutoScalingConfigurationName="fast")[
            "AutoScalingConfiguration"
        ]
        self.assertEqual((second["AutoScalingConfigurationRevision"], second["MaxSize"]), (2, 25))
        latest = apprunner.describe_auto_scaling_configuration(AutoScalingConfigurationArn=f"{prefix}/fast")
        self.assertEqual(latest["AutoScalingConfiguration"]["AutoScalingConfigurationRevision"], 2)
        listed = apprunner.list_auto_scaling_configurations(LatestOnly=False, MaxResults=2)
        self.assertEqual(len(listed["AutoScalingConfigurationSummaryList"]), 2)
        self.assertIn("NextToken", listed)
        self.assertEqual(
            apprunner.list_tags_for_resource(ResourceArn=first["AutoScalingConfigurationArn"])["Tags"],
            [{"Key": "team", "Value": "a"}],
        )

        connector = apprunner.create_vpc_connector(VpcConnectorName="private-db", Subnets=["subnet-0123"])[
            "VpcConnector"
        ]
        # No SecurityGroups given: AWS uses the VPC's default group; the simulator reports none.
        self.assertEqual((connector["VpcConnectorRevision"], connector["SecurityGroups"]), (1, []))
        connector_arn = connector["VpcConnectorArn"]
        self.assertEqual(apprunner.list_vpc_connectors()["VpcConnectors"], [connector])
        self.assertEqual(apprunner.describe_vpc_connector(VpcConnectorArn=connector_arn)["VpcConnector"], connector)
        service = apprunner.create_service(
            ServiceName="web-app",
            SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1.27"),
            AutoScalingConfigurationArn=f"{prefix}/fast/1",
            NetworkConfiguration={"EgressConfiguration": {"EgressType": "VPC", "VpcConnectorArn": connector_arn}},
        )["Service"]
        summary = service["AutoScalingConfigurationSummary"]
        self.assertEqual(summary["AutoScalingConfigurationArn"], first["AutoScalingConfigurationArn"])
        self.assertTrue(summary["HasAssociatedService"])
        self.assertEqual(service["NetworkConfiguration"]["EgressConfiguration"]["VpcConnectorArn"], connector_arn)

        invalid, not_found = "InvalidRequestException", "ResourceNotFoundException"
        in_use = {"AutoScalingConfigurationArn": first["AutoScalingConfigurationArn"]}
        self.assertEqual(error_code(apprunner.delete_auto_scaling_configuration, **in_use), invalid)
        self.assertEqual(
            error_code(apprunner.delete_auto_scaling_configuration, AutoScalingConfigurationArn=default_arn), invalid
        )
        self.assertEqual(error_code(apprunner.delete_vpc_connector, VpcConnectorArn=connector_arn), invalid)
        deleted = apprunner.delete_auto_scaling_configuration(
            AutoScalingConfigurationArn=second["AutoScalingConfigurationArn"]
        )["AutoScalingConfiguration"]
        self.assertEqual((deleted["Status"], deleted["Latest"]), ("INACTIVE", False))
        self.assertIn("DeletedAt", deleted)
        missing = f"{prefix}/missing/1/0123456789abcdef0123456789abcdef"
        for call in (apprunner.describe_auto_scaling_configuration, apprunner.delete_auto_scaling_configuration):
            self.assertEqual(error_code(call, AutoScalingConfigurationArn=missing), not_found)
        missing_connector = connector_arn.replace("private-db", "missing")
        self.assertEqual(error_code(apprunner.describe_vpc_connector, VpcConnectorArn=missing_connector), not_found)
        self.assertEqual(error_code(apprunner.delete_vpc_connector, VpcConnectorArn=missing_connector), not_found)
        self.assertEqual(
            error_code(
                apprunner.create_service,
                ServiceName="refused",
                SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1.27"),
                AutoScalingConfigurationArn=missing,
            ),
            invalid,
        )
        self.assertEqual(
            error_code(apprunner.create_vpc_connector, VpcConnectorName="private-db", Subnets=["subnet-1"]), invalid
        )
        # Client-side validation off, so the model's ranges reach the simulator.
        unchecked = client("apprunner", validate_parameters=False)
        for bad in (
            {"MaxConcurrency": 0},
            {"MaxConcurrency": 201},
            {"MinSize": 26},
            {"MaxSize": 26},
            {"MinSize": 5, "MaxSize": 2},
        ):
            self.assertEqual(
                error_code(unchecked.create_auto_scaling_configuration, AutoScalingConfigurationName="bounds", **bad),
                invalid,
                bad,
            )
        self.assertEqual(error_code(unchecked.create_vpc_connector, VpcConnectorName="no-subnets", Subnets=[]), invalid)
        for _ in range(5):
            apprunner.create_auto_scaling_configuration(AutoScalingConfigurationName="busy")
        self.assertEqual(
            error_code(apprunner.create_auto_scaling_configuration, AutoScalingConfigurationName="busy"),
            "ServiceQuotaExceededException",
        )

        # Another account's configuration: IAM refuses the describe, the service the create.
        foreign = default_arn.replace("123456789012", "210987654321")
        self.assertEqual(
            error_code(apprunner.describe_auto_scaling_configuration, AutoScalingConfigurationArn=foreign),
            "AccessDeniedException",
        )
        self.assertEqual(
            error_code(
                apprunner.create_service,
                ServiceName="foreign",
                SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1.27"),
                AutoScalingConfigurationArn=foreign,
            ),
            invalid,
        )

        # Back to the default configuration and DEFAULT egress: both are free to delete.
        advance(STAGE)
        apprunner.update_service(
            ServiceArn=service["ServiceArn"],
            AutoScalingConfigurationArn=f"{prefix}/DefaultConfiguration",
            NetworkConfiguration={"EgressConfiguration": {"EgressType": "DEFAULT"}},
        )
        egress = apprunner.describe_service(ServiceArn=service["ServiceArn"])["Service"]["NetworkConfiguration"]
        self.assertEqual(egress["EgressConfiguration"], {"EgressType": "DEFAULT"})
        apprunner.delete_auto_scaling_configuration(**in_use)
        gone = apprunner.delete_vpc_connector(VpcConnectorArn=connector_arn)["VpcConnector"]
        self.assertEqual(gone["Status"], "INACTIVE")
        self.assertEqual(apprunner.list_vpc_connectors()["VpcConnectors"], [])


class FaultWireTest(SimTestCase):
    def test_throttling_is_throttling_exception_and_botocore_retries_it(self):
        control("/_sim/faults", {"throttleRate": 1.0})
        control("/_sim/reset", {})
        self.assertEqual(error_code(client("ecs").describe_services, services=["web"]), THROTTLING)
        self.assertEqual(error_code(client("apprunner", attempts=3).list_services), THROTTLING)
        calls = control("/_sim/stats", method="GET")["calls"]
        self.assertEqual(calls, {"ecs:DescribeServices": 1, "apprunner:ListServices": 3})

    def test_server_errors_are_modeled_5xx_exceptions(self):
        control("/_sim/faults", {"serverErrorRate": 1.0})
        self.assertEqual(error_code(client("ecs").describe_services, services=["web"]), "ServerException")
        self.assertEqual(
            error_code(client("apprunner").list_services), "InternalServiceErrorException"
        )

    def test_rate_limits_apply_per_action_family(self):
        control("/_sim/faults", {"rateLimitPerSecond": {"apprunner:describe": 1}})
        apprunner = client("apprunner")
        apprunner.list_services()
        self.assertEqual(error_code(apprunner.list_services), THROTTLING)
        advance(1)
        apprunner.list_services()
        outcomes = control("/_sim/stats", method="GET")["outcomes"]
        self.assertEqual(outcomes["apprunner:ListServices:ok"], 2)
        self.assertEqual(outcomes["apprunner:ListServices:ThrottlingException"], 1)


class StsWireTest(SimTestCase):
    def assume_team_a(self, sts, **extra):
        return sts.assume_role(
            RoleArn=TEAM_A, RoleSessionName="ns-a", ExternalId=TEAM_A_EXTERNAL_ID, **extra
        )

    def test_assume_role_gives_credentials_in_the_roles_account(self):
        sts = client("sts")
        me = sts.get_caller_identity()
        self.assertEqual(me["Account"], DEFAULT_ACCOUNT)
        self.assertEqual(me["Arn"], "arn:aws:iam::123456789012:user/AKIDSIMULATOR")

        assumed = self.assume_team_a(sts, DurationSeconds=900)
        credentials = assumed["Credentials"]
        self.assertRegex(credentials["AccessKeyId"], r"^ASIA[A-Z2-7]{16}$")
        lifetime = credentials["Expiration"] - datetime.now(timezone.utc)
        self.assertTrue(890 < lifetime.total_seconds() <= 901, lifetime)
        user = assumed["AssumedRoleUser"]
        self.assertEqual(user["Arn"], "arn:aws:sts::210987654321:assumed-role/runway-team-a/ns-a")
        self.assertRegex(user["AssumedRoleId"], r"^AROA[A-Z2-7]{17}:ns-a$")
        role = client("sts", credentials=credentials).get_caller_identity()
        self.assertEqual(role["Account"], "210987654321")
        self.assertEqual(role["Arn"], user["Arn"])
        self.assertEqual(role["UserId"], user["AssumedRoleId"])

        # ECS and App Runner run the session's calls in the role's account; the default account
        # sees none of it, and an ARN of another account is AccessDeniedException.
        ecs_a = client("ecs", credentials=credentials)
        arn = ecs_a.create_express_gateway_service(
            serviceName="web",
            infrastructureRoleArn="arn:aws:iam::210987654321:role/ecsInfrastructureRole",
            primaryContainer=container("public.ecr.aws/nginx/nginx:1.27"),
        )["service"]["serviceArn"]
        self.assertEqual(arn, "arn:aws:ecs:us-east-1:210987654321:service/default/web")
        ecs = client("ecs")
        self.assertEqual(ecs.describe_services(services=["web"])["failures"][0]["reason"], "MISSING")
        denied = client_error(ecs.describe_express_gateway_service, serviceArn=arn)
        self.assertEqual(denied["Code"], "AccessDeniedException")
        self.assertIn("is not authorized to perform: ecs:DescribeExpressGatewayService", denied["Message"])
        apprunner_a = client("apprunner", credentials=credentials)
        runner = apprunner_a.create_service(
            ServiceName="web-app", SourceConfiguration=image_source("public.ecr.aws/nginx/nginx:1.27")
        )["Service"]["ServiceArn"]
        self.assertEqual(client("apprunner").list_services()["ServiceSummaryList"], [])
        self.assertEqual(
            error_code(client("apprunner").describe_service, ServiceArn=runner), "AccessDeniedException"
        )
        by_account = control("/_sim/stats", method="GET")["by_account"]
        self.assertEqual(by_account["210987654321"]["ecs:CreateExpressGatewayService"], 1)
        self.assertEqual(by_account[DEFAULT_ACCOUNT]["sts:AssumeRole"], 1)
        self.assertNotIn("ecs:CreateExpressGatewayService", by_account[DEFAULT_ACCOUNT])

    def test_session_name_source_identity_and_tags_are_recorded(self):
        sts = client("sts")
        self.assume_team_a(
            sts,
            SourceIdentity="prod@team-a",
            Tags=[
                {"Key": "runway.dev/cluster", "Value": "prod"},
                {"Key": "runway.dev/namespace", "Value": "team-a"},
            ],
        )
        sessions = control("/_sim/sessions", method="GET")["sessions"]
        self.assertEqual(
            sessions,
            [
                {
                    "roleArn": TEAM_A,
                    "sessionName": "ns-a",
                    "sourceIdentity": "prod@team-a",
                    "tags": {"runway.dev/cluster": "prod", "runway.dev/namespace": "team-a"},
                    "callerArn": "arn:aws:iam::123456789012:user/AKIDSIMULATOR",
                }
            ],
        )
        # Outside the model: a tag value with a comma, a one-character source identity.
        bad = client("sts", validate_parameters=False)
        error = client_error(
            self.assume_team_a, bad, SourceIdentity="x", Tags=[{"Key": "k", "Value": "a,b"}]
        )
        self.assertEqual(error["Code"], "ValidationError")
        self.assertIn("'tags.1.member.value'", error["Message"])
        self.assertIn("'sourceIdentity'", error["Message"])
        control("/_sim/reset", {})
        self.assertEqual(control("/_sim/sessions", method="GET")["sessions"], [])

    def test_untrusted_callers_and_wrong_external_ids_are_access_denied(self):
        control(
            "/_sim/roles",
            {"arn": TEAM_B, "trust": ["arn:aws:iam::123456789012:user/controller"]},
        )
        roles = [role["arn"] for role in control("/_sim/roles", method="GET")["roles"]]
        self.assertEqual(roles, [TEAM_A, TEAM_B])
        sts = client("sts")
        for call in [
            lambda: sts.assume_role(RoleArn=TEAM_B, RoleSessionName="ns"),
            lambda: sts.assume_role(RoleArn=TEAM_A, RoleSessionName="ns", ExternalId="wrong-id"),
            lambda: sts.assume_role(RoleArn=TEAM_A, RoleSessionName="ns"),
            lambda: sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/nobody", RoleSessionName="ns"),
        ]:
            error = client_error(call)
            self.assertEqual(error["Code"], "AccessDenied")
            self.assertRegex(
                error["Message"],
                r"^User: arn:aws:iam::123456789012:user/AKIDSIMULATOR is not authorized to perform: "
                r"sts:AssumeRole on resource: arn:aws:iam::\d{12}:role/\S+$",
            )
        # The control endpoint's role persists until a full reset; the flag's role stays.
        control("/_sim/reset", {"state": True})
        roles = [role["arn"] for role in control("/_sim/roles", method="GET")["roles"]]
        self.assertEqual(roles, [TEAM_A])

    def test_inputs_outside_the_model_are_validation_errors(self):
        # Client-side validation off, so the constraints botocore checks itself reach the simulator.
        sts = client("sts", validate_parameters=False)
        error = client_error(
            sts.assume_role, RoleArn=TEAM_A, RoleSessionName="bad name!", DurationSeconds=60
        )
        self.assertEqual(error["Code"], "ValidationError")
        self.assertEqual(
            error["Message"],
            "2 validation errors detected: Value 'bad name!' at 'roleSessionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '60' at "
            "'durationSeconds' failed to satisfy constraint: Member must have value greater than or "
            "equal to 900",
        )
        error = client_error(self.assume_team_a, sts, DurationSeconds=7200)
        self.assertEqual(
            error,
            {
                "Type": "Sender",
                "Code": "ValidationError",
                "Message": "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            },
        )

    def test_expired_session_credentials_get_expired_token(self):
        control("/_sim/sts", {"credentialSeconds": 1})
        credentials = self.assume_team_a(client("sts"))["Credentials"]
        client("ecs", credentials=credentials).describe_services(services=["web"])
        remaining = (credentials["Expiration"] - datetime.now(timezone.utc)).total_seconds()
        self.assertLessEqual(remaining, 2)
        time.sleep(max(remaining, 0) + 0.2)
        error = client_error(client("ecs", credentials=credentials).describe_services, services=["web"])
        self.assertEqual(
            error, {"Code": "ExpiredTokenException", "Message": "The security token included in the request is expired"}
        )
        self.assertEqual(
            error_code(client("apprunner", credentials=credentials).list_services), "ExpiredTokenException"
        )
        self.assertEqual(error_code(client("sts", credentials=credentials).get_caller_identity), "ExpiredToken")
        outcomes = control("/_sim/stats", method="GET")["outcomes"]
        self.assertEqual(outcomes["ecs:DescribeServices:ExpiredTokenException"], 1)
        self.assertEqual(outcomes["sts:GetCallerIdentity:ExpiredToken"], 1)
        # A full reset lifts the cap.
        control("/_sim/reset", {"state": True})
        self.assertEqual(control("/_sim/sts", method="GET"), {"credentialSeconds": None})


class ZzCoverageTest(unittest.TestCase):
    """Runs last (unittest sorts classes by name): every operation's responses were validated."""

    def test_every_operation_response_was_validated_against_the_model(self):
        seen = {(service, op) for service, op, outcome in VALIDATED if outcome == "ok"}
        expected = (
            {("ecs", op) for op in ECS_OPERATIONS}
            | {("apprunner", op) for op in APPRUNNER_OPERATIONS}
            | {("sts", op) for op in STS_OPERATIONS}
        )
        self.assertEqual(expected - seen, set())
        errors = {(service, op, outcome) for service, op, outcome in VALIDATED if outcome != "ok"}
        self.assertIn(("apprunner", "UpdateService", "InvalidStateException"), errors)
        self.assertIn(("ecs", "UpdateExpressGatewayService", "ServiceNotActiveException"), errors)
        self.assertIn(("ecs", "TagResource", "LimitExceededException"), errors)
        self.assertIn(("ecs", "TagResource", "ResourceNotFoundException"), errors)
        self.assertIn(("ecs", "ListTagsForResource", "InvalidParameterException"), errors)
        self.assertIn(("ecs", "DescribeServiceRevisions", "InvalidParameterException"), errors)
        self.assertIn(("apprunner", "TagResource", "InvalidRequestException"), errors)
        self.assertIn(("apprunner", "UntagResource", "ResourceNotFoundException"), errors)
        self.assertIn(("apprunner", "DeleteAutoScalingConfiguration", "InvalidRequestException"), errors)
        self.assertIn(("apprunner", "DescribeAutoScalingConfiguration", "ResourceNotFoundException"), errors)
        self.assertIn(("apprunner", "CreateAutoScalingConfiguration", "ServiceQuotaExceededException"), errors)
        self.assertIn(("apprunner", "DescribeVpcConnector", "ResourceNotFoundException"), errors)
        self.assertIn(("apprunner", "DeleteService", "InvalidStateException"), errors)
        self.assertIn(("apprunner", "DeleteVpcConnector", "InvalidRequestException"), errors)
        for code in ["AccessDenied", "ValidationError"]:
            self.assertIn(("sts", "AssumeRole", code), errors)
        self.assertIn(("sts", "GetCallerIdentity", "ExpiredToken"), errors)
        self.assertIn(("ecs", "DescribeServices", "ExpiredTokenException"), errors)
        self.assertIn(("apprunner", "DescribeService", "AccessDeniedException"), errors)


class ValidatorSelfTest(unittest.TestCase):
    """The validator must reject what AWS would never send, or the wire test proves nothing."""

    def test_validator_rejects_unknown_missing_and_mistyped_members(self):
        model = botocore.session.get_session().get_service_model("apprunner")
        output = model.operation_model("ListOperations").output_shape
        good = {"OperationSummaryList": [{"Id": "x" * 36, "Type": "CREATE_SERVICE", "StartedAt": 1.5}]}
        check_shape(output, good, "ok")
        bad = [
            {"OperationSummaryList": [{"Type": "CREATE"}]},
            {"OperationSummaryList": [{"Surprise": 1}]},
            {"OperationSummaryList": [{"StartedAt": "yesterday"}]},
            {"OperationSummaryList": [{"Id": None}]},
            {"NextToken": 7},
        ]
        for body in bad:
            with self.assertRaises(ShapeError, msg=body):
                check_shape(output, body, "bad")
        service = model.operation_model("DescribeService").output_shape
        with self.assertRaises(ShapeError):
            check_shape(service, {"Service": {"ServiceName": "abcd"}}, "missing required")

    def test_xml_validator_rejects_unknown_missing_and_mistyped_elements(self):
        sts = botocore.session.get_session().get_service_model("sts")
        output = sts.operation_model("AssumeRole").output_shape
        ns = sts.metadata["xmlNamespace"]

        def result(inner):
            return ET.fromstring(f'<AssumeRoleResult xmlns="{ns}">{inner}</AssumeRoleResult>')

        user = "<AssumedRoleUser><AssumedRoleId>AROA:x</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/a/x</Arn></AssumedRoleUser>"
        credentials = (
            "<Credentials><AccessKeyId>ASIAAAAAAAAAAAAAAAAA</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
            "<SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>"
        )
        check_xml_shape(output, result(credentials + user), "ok")
        bad = [
            credentials.replace("<SessionToken>t</SessionToken>", "") + user,
            credentials.replace("2030-01-01T00:00:00Z", "tomorrow") + user,
            credentials.replace("ASIAAAAAAAAAAAAAAAAA", "ASIA") + user,
            credentials + user + "<Surprise>1</Surprise>",
        ]
        for inner in bad:
            with self.assertRaises(ShapeError, msg=inner):
                check_xml_shape(output, result(inner), "bad")


if __name__ == "__main__":
    sys.exit(unittest.main())
