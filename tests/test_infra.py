"""The CloudFormation in infra/ deployed into moto's CloudFormation, its outputs checked against the app's settings.

Every template is deployed in the documented order (docs/deploy.md) into moto's server, the stacks importing each
other's exports as in AWS. moto cannot create every resource type: those (MOTO_UNSUPPORTED, checked against moto's
own registry) are removed from the deployed copy and their Refs/GetAtts replaced by placeholders. What moto did
create is then read back with boto3, and the environment properties the Elastic Beanstalk environment would get
are evaluated by moto's CloudFormation (Fn::ImportValue and all) and fed to the app's `load_config`.
"""

import ast
import json
import re
import uuid
from pathlib import Path

import boto3
import pytest
import yaml
from cfnlint.decode import cfn_yaml

from torium_api.config import load_config, validate

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
EBEXTENSIONS = ROOT / ".ebextensions"
REGION = "eu-central-1"
ACCOUNT = "123456789012"  # moto's default account

# docs/deploy.md deploys the stacks in this order (each imports only from stacks before it).
DEPLOY_ORDER = ["network", "alerts", "queues", "cognito", "storage", "database", "cache", "iam", "environment",
                "monitoring"]

# Resource types of infra/*.yaml that moto 5.2.5's CloudFormation cannot create: moto knows a type only through a
# CloudFormationModel subclass (moto/cloudformation/parsing.py get_model_map) and skips the others with a warning.
# The deployed copy leaves them out. test_the_unsupported_lists_are_what_moto_says fails when moto learns one.
MOTO_UNSUPPORTED = {
    "AWS::CloudWatch::Alarm",
    "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup",
    "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::SubnetGroup",
    "AWS::ElasticBeanstalk::Application", "AWS::ElasticBeanstalk::Environment",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
}
# Attributes of types moto creates but cannot return (its has_cfn_attr): the RDS-managed secret. moto's DBInstance
# also ignores ManageMasterUserPassword, so it creates no secret either.
MOTO_UNSUPPORTED_ATTRIBUTES = {("AWS::RDS::DBInstance", "MasterUserSecret.SecretArn")}
# Types moto creates but whose Ref it resolves to its Python object, which a DBInstance then cannot use: the deployed
# copy points the instance at RDS's default group instead (the custom group is still created and checked).
MOTO_UNUSABLE_REFS = {"AWS::RDS::DBParameterGroup": "default.postgres16"}

# Environment properties infra/environment.yaml sets that torium_api/config.py does not read yet. LEAD: when
# load_config reads one of these, test_the_environment_properties_land_in_the_apps_settings checks its value
# automatically (it checks every name load_config returns); then delete the name here.
PENDING_IN_APP: set[str] = set()

# The metric contract with the app (it emits these; monitoring.yaml alarms on them).
METRICS_NAMESPACE = "Torium"
HEARTBEAT_COMPONENTS = {"relay", "scheduler", "consumer"}


# --- the templates -------------------------------------------------------------------------------------------

def _template(name: str) -> dict:
    """A template as plain JSON-able data, intrinsic functions in their long form (Fn::Sub, Ref, ...)."""
    return json.loads(json.dumps(cfn_yaml.loads((INFRA / f"{name}.yaml").read_text())))


def _walk(node):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


def _getatts(template: dict):
    """Every (logical id, attribute) a template reads, from Fn::GetAtt and from ${Resource.Attribute} in Fn::Sub."""
    for node in _walk(template):
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            yield tuple(node["Fn::GetAtt"])
        if isinstance(node, dict) and "Fn::Sub" in node:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            for logical, attribute in re.findall(r"\$\{([A-Za-z0-9]+)\.([A-Za-z0-9.]+)\}", text):
                if logical in template["Resources"]:
                    yield logical, attribute


def _alarms() -> dict:
    """Every CloudWatch alarm, in the templates and in .ebextensions Resources, by logical id."""
    alarms = {}
    for name in DEPLOY_ORDER:
        for logical, resource in _template(name)["Resources"].items():
            if resource["Type"] == "AWS::CloudWatch::Alarm":
                alarms[f"{name}/{logical}"] = resource["Properties"]
    for path in sorted(EBEXTENSIONS.glob("*.config")):
        for logical, resource in (yaml.safe_load(path.read_text()).get("Resources") or {}).items():
            if resource["Type"] == "AWS::CloudWatch::Alarm":
                alarms[f"{path.name}/{logical}"] = resource["Properties"]
    return alarms


def _option_settings() -> dict:
    """The EB environment's option settings from environment.yaml: {(namespace, option): value}."""
    environment = _template("environment")["Resources"]["Environment"]["Properties"]
    return {(o["Namespace"], o["OptionName"]): o["Value"] for o in environment["OptionSettings"]}


def test_every_template_is_deployed_in_the_documented_order():
    assert sorted(DEPLOY_ORDER) == sorted(p.stem for p in INFRA.glob("*.yaml"))
    steps = re.findall(r"--template-file infra/(\w+)\.yaml", (ROOT / "docs" / "deploy.md").read_text())
    assert steps == DEPLOY_ORDER


def test_the_unsupported_lists_are_what_moto_says():
    from moto.cloudformation.parsing import get_model_map

    models = get_model_map()
    types, attributes = set(), set()
    for name in DEPLOY_ORDER:
        template = _template(name)
        kinds = {k: r["Type"] for k, r in template["Resources"].items()}
        types |= set(kinds.values())
        for logical, attribute in _getatts(template):
            if kinds[logical] in models and not models[kinds[logical]].has_cfn_attr(attribute):
                attributes.add((kinds[logical], attribute))
    assert {t for t in types if t not in models} == MOTO_UNSUPPORTED
    assert attributes == MOTO_UNSUPPORTED_ATTRIBUTES


# --- static checks: what moto cannot show -------------------------------------------------------------------

def test_every_alarm_notifies_the_alerts_topic():
    alarms = _alarms()
    assert len(alarms) == 13
    for name, alarm in alarms.items():
        [action] = alarm["AlarmActions"]
        assert action in ({"Fn::ImportValue": {"Fn::Sub": "${AlertsStackName}-AlarmTopicArn"}},
                          {"Fn::GetOptionSetting": {"Namespace": "aws:elasticbeanstalk:customoption",
                                                    "OptionName": "AlarmTopicArn"}}), name
        assert alarm["OKActions"] == alarm["AlarmActions"], name


def test_every_dead_letter_queue_has_an_alarm():
    resources = _template("queues")["Resources"]
    dlqs = {k for k, r in resources.items() if r["Type"] == "AWS::SQS::Queue" and k.endswith("DLQ")}
    watched = {a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in _alarms().values()
               if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"}
    assert dlqs == watched == {"NotificationsDLQ", "DomainEventsDLQ", "OrdersDLQ"}


def test_the_app_metric_alarms_keep_the_contract():
    alarms = _alarms()
    heartbeats = {a["Dimensions"][0]["Value"]: a for a in alarms.values() if a.get("MetricName") == "Heartbeat"}
    assert set(heartbeats) == HEARTBEAT_COMPONENTS
    for alarm in heartbeats.values():  # a dead process stops emitting: missing data must alarm
        assert alarm["Namespace"] == METRICS_NAMESPACE and alarm["Dimensions"][0]["Name"] == "Component"
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 60, 1)
        assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["TreatMissingData"] == "breaching"
    outbox = alarms["monitoring/OutboxBacklog"]
    [stat] = [m["MetricStat"] for m in outbox["Metrics"] if "MetricStat" in m]
    assert stat == {"Metric": {"Namespace": METRICS_NAMESPACE, "MetricName": "OutboxOldestUnsentAgeSeconds"},
                    "Period": 60, "Stat": "Maximum"}
    assert outbox["Threshold"] == {"Ref": "OutboxMaxAgeMinutes"} and outbox["TreatMissingData"] == "breaching"
    assert _template("monitoring")["Parameters"]["OutboxMaxAgeMinutes"]["Default"] == 5


def test_the_load_balancer_alarm_reads_the_environments_own_load_balancer():
    alarm = _alarms()["05_alarms.config/ToriumAlb5xxRate"]
    metrics = {m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Metric"]
               for m in alarm["Metrics"] if "MetricStat" in m}
    assert set(metrics) == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
    for metric in metrics.values():
        assert metric["Namespace"] == "AWS/ApplicationELB"
        assert metric["Dimensions"] == [{"Name": "LoadBalancer",
                                         "Value": {"Fn::GetAtt": ["AWSEBV2LoadBalancer", "LoadBalancerFullName"]}}]
    # every custom option the .ebextensions read is set by the environment stack
    wanted = {n["Fn::GetOptionSetting"]["OptionName"] for p in EBEXTENSIONS.glob("*.config")
              for n in _walk(yaml.safe_load(p.read_text())) if isinstance(n, dict) and "Fn::GetOptionSetting" in n}
    assert wanted == {o for (ns, o) in _option_settings() if ns == "aws:elasticbeanstalk:customoption"}


def test_the_environment_has_https_a_capacity_keeping_deploy_policy_and_log_streaming():
    options = _option_settings()
    assert options[("aws:elbv2:listener:443", "ListenerEnabled")] == "true"
    assert options[("aws:elbv2:listener:443", "Protocol")] == "HTTPS"
    assert options[("aws:elbv2:listener:443", "SSLCertificateArns")] == {"Ref": "CertificateArn"}
    assert options[("aws:elbv2:listener:443", "SSLPolicy")] == {"Ref": "SslPolicy"}
    assert options[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == "RollingWithAdditionalBatch"
    assert options[("aws:elasticbeanstalk:environment", "LoadBalancerType")] == "application"
    assert options[("aws:elasticbeanstalk:environment", "EnvironmentType")] == "LoadBalanced"
    assert options[("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs")] == "true"
    # the port 80 listener redirects; no hand-made 443 listener competes with the option settings
    https = yaml.safe_load((EBEXTENSIONS / "03_https.config").read_text())["Resources"]
    assert set(https) == {"AWSEBV2LoadBalancerListener"}
    assert https["AWSEBV2LoadBalancerListener"]["Properties"]["DefaultActions"][0]["RedirectConfig"]["Protocol"] \
        == "HTTPS"


def test_worker_and_relay_logs_stream_like_the_web_log():
    config = yaml.safe_load((EBEXTENSIONS / "06_process_logs.config").read_text())
    [(path, spec)] = config["files"].items()

    def join(match):  # EB evaluates `{"Fn::Join": [...]}` in files content; AWSEBEnvironmentName is the env's name
        separator, parts = json.loads(match.group(1))["Fn::Join"]
        return separator.join("torium-prod" if part == {"Ref": "AWSEBEnvironmentName"} else part for part in parts)

    agent = json.loads(re.sub(r"`([^`]*)`", join, spec["content"]))
    collected = agent["logs"]["logs_collected"]["files"]["collect_list"]
    assert [(c["file_path"], c["log_group_name"], c["log_stream_name"]) for c in collected] == [
        (f"/var/log/{p}.stdout.log", f"/aws/elasticbeanstalk/torium-prod/var/log/{p}.stdout.log", "{instance_id}")
        for p in ("worker", "relay")]
    commands = [c["command"] for c in config["container_commands"].values()]
    assert f"amazon-cloudwatch-agent-ctl -a append-config -m ec2 -s -c file:{path}" in commands[0]
    statements = _template("iam")["Resources"]["InstanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    [logs] = [s for s in statements["Statement"] if s["Sid"] == "StreamedLogs"]
    assert {"logs:CreateLogGroup", "logs:PutLogEvents", "logs:PutRetentionPolicy"} <= set(logs["Action"])


def test_the_metrics_namespace_is_the_same_everywhere():
    options = _option_settings()
    assert options[("aws:elasticbeanstalk:application:environment", "METRICS_NAMESPACE")] == METRICS_NAMESPACE
    statements = _template("iam")["Resources"]["InstanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    [metrics] = [s for s in statements["Statement"] if s["Sid"] == "AppMetrics"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}}


def test_the_app_client_reads_but_cannot_write_the_user_id_attribute():
    resources = _template("cognito")["Resources"]
    schema = {a["Name"]: a for a in resources["UserPool"]["Properties"]["Schema"]}
    assert schema["user_id"]["AttributeDataType"] == "String" and schema["user_id"]["Mutable"] is True
    client = resources["AppClient"]["Properties"]
    assert "custom:user_id" in client["ReadAttributes"] and "email" in client["ReadAttributes"]
    assert "custom:user_id" not in client["WriteAttributes"]
    assert {r["Properties"]["GroupName"] for r in resources.values()
            if r["Type"] == "AWS::Cognito::UserPoolGroup"} == {"admin", "seller"}


# --- the deployment into moto -------------------------------------------------------------------------------

def _placeholder(logical: str, kind: str, attribute: str | None) -> str:
    """Stands in for a Ref/GetAtt of something moto cannot create; shaped like the real value where it matters."""
    if kind == "AWS::Cognito::UserPool" and attribute is None:
        return f"{REGION}_{logical}"  # a pool id, which the app's production validation checks
    if attribute and attribute.endswith("Arn"):
        return f"arn:aws:placeholder:{REGION}:{ACCOUNT}:{logical}"
    if attribute and attribute.endswith("Port"):
        return "6379"
    return f"{logical}-{attribute or 'ref'}.placeholder".lower().replace(".", "-", 1)


def _without_unsupported(template: dict) -> dict:
    """The template minus MOTO_UNSUPPORTED resources, their Refs/GetAtts (and unsupported attributes) replaced."""
    kinds = {k: r["Type"] for k, r in template["Resources"].items()}
    gone = {k for k, t in kinds.items() if t in MOTO_UNSUPPORTED}

    def missing(logical, attribute):
        return logical in gone or (kinds.get(logical), attribute) in MOTO_UNSUPPORTED_ATTRIBUTES

    def sub(text: str) -> str:
        def repl(match):
            logical, _, attribute = match.group(1).partition(".")
            if logical in kinds and missing(logical, attribute or None):
                return _placeholder(logical, kinds[logical], attribute or None)
            return match.group(0)
        return re.sub(r"\$\{([A-Za-z0-9]+(?:\.[A-Za-z0-9.]+)?)\}", repl, text)

    def rewrite(node):
        if isinstance(node, list):
            return [rewrite(n) for n in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"} and node["Ref"] in gone:
            return _placeholder(node["Ref"], kinds[node["Ref"]], None)
        if set(node) == {"Ref"} and kinds.get(node["Ref"]) in MOTO_UNUSABLE_REFS:
            return MOTO_UNUSABLE_REFS[kinds[node["Ref"]]]
        if set(node) == {"Fn::GetAtt"} and missing(*node["Fn::GetAtt"]):
            return _placeholder(node["Fn::GetAtt"][0], kinds[node["Fn::GetAtt"][0]], node["Fn::GetAtt"][1])
        if set(node) == {"Fn::Sub"}:
            value = node["Fn::Sub"]
            return {"Fn::Sub": sub(value) if isinstance(value, str) else [sub(value[0]), rewrite(value[1])]}
        return {k: rewrite(v) for k, v in node.items()}

    copy = {k: rewrite(v) for k, v in template.items() if k != "Resources"}
    copy["Resources"] = {k: rewrite(r) for k, r in template["Resources"].items() if k not in gone}
    return copy


def _with_environment_outputs(template: dict) -> dict:
    """Expose the EB environment's option settings as outputs, so moto evaluates their intrinsics (ImportValue)."""
    environment = template["Resources"]["Environment"]["Properties"]
    for index, option in enumerate(environment["OptionSettings"]):
        template["Outputs"][f"Option{index}"] = {"Description": f"{option['Namespace']}|{option['OptionName']}",
                                                 "Value": option["Value"]}
    return template


@pytest.fixture(autouse=True)
def clean_db():
    """These tests touch no database: they replace conftest's autouse fixture (which needs the app and PostgreSQL)."""
    yield


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    yield lambda service: session.client(service, endpoint_url=f"http://{host}:{port}")
    server.stop()


@pytest.fixture(scope="module")
def network(aws):
    """What network.yaml takes as parameters: a VPC with two private and two public subnets."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.80.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.80.{i}.0/24", AvailabilityZone=f"{REGION}{az}")
               ["Subnet"]["SubnetId"] for i, az in enumerate("abab")]
    return {"VpcId": vpc, "PrivateSubnetIds": ",".join(subnets[:2]), "PublicSubnetIds": ",".join(subnets[2:])}


@pytest.fixture(scope="module")
def stacks(aws, network):
    """Every template deployed in order; {name: {"outputs": {...}, "resources": {logical: physical}}}."""
    cloudformation, prefix = aws("cloudformation"), f"it{uuid.uuid4().hex[:6]}"
    stack_names = {f"{n.capitalize()}StackName": f"{prefix}-{n}" for n in DEPLOY_ORDER}
    values = {**network, **stack_names, "AlarmEmail": "ops@torium.example", "QueuePrefix": f"{prefix}-",
              "UploadOrigins": "https://admin.torium.example", "SesIdentity": "torium.example",
              "SolutionStackName": "64bit Amazon Linux 2023 v4.7.2 running Python 3.11",
              "CertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0c5e4d1e-0000-4000-8000-000000000000",
              "SesSender": "no-reply@torium.example", "CorsOrigins": "https://admin.torium.example",
              "PaymentWebhookSecret": "whsec_infra_test_0123456789abcdef"}
    deployed = {}
    for name in DEPLOY_ORDER:
        template = _template(name)
        if name == "environment":
            template = _with_environment_outputs(template)
        template = _without_unsupported(template)
        parameters = [{"ParameterKey": k, "ParameterValue": values[k]} for k in template.get("Parameters", {})
                      if k in values]
        stack_name = stack_names[f"{name.capitalize()}StackName"]
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template), Parameters=parameters,
                                    Capabilities=["CAPABILITY_IAM"])
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE", (name, stack.get("StackStatusReason"))
        resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
        deployed[name] = {
            "stack": stack_name,
            "template": template,
            "outputs": {o["OutputKey"]: o for o in stack.get("Outputs", [])},
            # moto leaves PhysicalResourceId out for some types (AWS::RDS::DBSubnetGroup)
            "resources": {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources},
        }
    yield deployed
    for name in reversed(DEPLOY_ORDER):
        cloudformation.delete_stack(StackName=stack_names[f"{name.capitalize()}StackName"])
    _forget(*ONLY_HERE)


# Services only this module uses. moto's state is per process, shared with conftest's moto server, and moto's
# /moto-api/data.json (which other tests read for the SMS and e-mails they sent) walks every model instance ever
# made: deleted stacks fail on their vanished exports, an RDS instance on a write-only property. Forget them.
ONLY_HERE = ("cloudformation", "rds", "ec2", "iam")


def _forget(*services: str) -> None:
    from moto.backends import get_backend
    from moto.core.model_instances import model_data

    for service in services:
        for account_backend in get_backend(service).values():
            account_backend.reset()
        for model in model_data[service].values():
            model.instances_tracked.clear()


def _value(stacks, name, output) -> str:
    return stacks[name]["outputs"][output]["OutputValue"]


def test_every_resource_moto_supports_was_created(stacks):
    for name, stack in stacks.items():
        assert set(stack["resources"]) == set(stack["template"]["Resources"]), name


def test_the_queues_exist_with_their_dead_letter_queues(aws, stacks):
    sqs, prefix = aws("sqs"), _value(stacks, "queues", "QueuePrefix")
    for queue, dlq in (("notifications", "notifications-dlq"), ("domain-events", "domain-events-dlq"),
                       ("orders.fifo", "orders-dlq.fifo")):
        url = sqs.get_queue_url(QueueName=prefix + queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        dlq_url = sqs.get_queue_url(QueueName=prefix + dlq)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq_arn and int(redrive["maxReceiveCount"]) == 5
        assert attributes["ReceiveMessageWaitTimeSeconds"] == "20"
        assert attributes.get("FifoQueue", "false") == ("true" if queue.endswith(".fifo") else "false")


def test_the_buckets_exist_encrypted(aws, stacks):
    s3 = aws("s3")
    for output in ("ProductImageBucketName", "OrganizationLogoBucketName"):
        bucket = _value(stacks, "storage", output)
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_only_the_app_instances_reach_the_database_and_the_cache(aws, stacks):
    ec2, network = aws("ec2"), stacks["network"]["outputs"]
    app_group = network["AppSecurityGroupId"]["OutputValue"]
    for output, port in (("DatabaseSecurityGroupId", 5432), ("CacheSecurityGroupId", 6379)):
        [group] = ec2.describe_security_groups(GroupIds=[network[output]["OutputValue"]])["SecurityGroups"]
        [rule] = group["IpPermissions"]
        assert (rule["FromPort"], rule["ToPort"], rule["IpRanges"]) == (port, port, [])
        assert [pair["GroupId"] for pair in rule["UserIdGroupPairs"]] == [app_group]


def test_the_database_is_postgres_16_encrypted_and_private(aws, stacks):
    [db] = aws("rds").describe_db_instances(
        DBInstanceIdentifier=_value(stacks, "database", "DatabaseInstanceId"))["DBInstances"]
    assert (db["Engine"], db["EngineVersion"], db["DBName"], db["Endpoint"]["Port"]) == ("postgres", "16", "torium",
                                                                                          5432)
    assert db["StorageEncrypted"] is True and db["PubliclyAccessible"] is False and db["MultiAZ"] is True
    subnets = {s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]}
    assert subnets == set(_value(stacks, "network", "PrivateSubnetIds").split(","))
    # moto names the group <stack>-ParameterGroup-<suffix>, lower case, and reports no physical id for it
    prefix = f"{stacks['database']['stack']}-parametergroup-".lower()
    [group] = [g for g in aws("rds").describe_db_parameter_groups()["DBParameterGroups"]
               if g["DBParameterGroupName"].startswith(prefix)]
    assert group["DBParameterGroupFamily"] == "postgres16"
    parameters = aws("rds").describe_db_parameters(DBParameterGroupName=group["DBParameterGroupName"],
                                                   Source="user")["Parameters"]
    assert {(p["ParameterName"], p["ParameterValue"]) for p in parameters} == {("log_min_duration_statement", "1000")}
    address = db["Endpoint"]["Address"]
    assert _value(stacks, "database", "DatabaseUrl") == f"postgresql://{address}:5432/torium"


def test_the_instance_role_grants_what_the_app_uses(aws, stacks):
    iam, resources = aws("iam"), stacks["iam"]["resources"]
    [profile] = [p for p in iam.list_instance_profiles()["InstanceProfiles"]
                 if p["InstanceProfileName"] == _value(stacks, "iam", "InstanceProfileName")]
    assert [r["RoleName"] for r in profile["Roles"]] == [resources["InstanceRole"]]
    policy = iam.get_role_policy(RoleName=resources["InstanceRole"], PolicyName="torium-api")["PolicyDocument"]
    if isinstance(policy, str):  # moto returns an inline policy made by CloudFormation as the dict's Python repr
        policy = ast.literal_eval(policy)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["DatabaseCredentials"] == {
        "Sid": "DatabaseCredentials", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
        "Resource": _value(stacks, "database", "DatabaseSecretArn")}
    assert set(statements["CognitoAdministration"]["Action"]) == {
        f"cognito-idp:{a}" for a in ("AdminUpdateUserAttributes", "AdminDisableUser", "AdminEnableUser",
                                     "AdminAddUserToGroup", "AdminRemoveUserFromGroup", "AdminDeleteUser",
                                     "AdminUserGlobalSignOut", "AdminGetUser")}
    assert statements["CognitoAdministration"]["Resource"] == _value(stacks, "cognito", "UserPoolArn")
    assert statements["Queues"]["Resource"].endswith(f":{_value(stacks, 'queues', 'QueuePrefix')}*")
    product_arn = _value(stacks, "storage", "ProductImageBucketArn")
    assert statements["ProductImages"]["Resource"] == f"{product_arn}/products/*"
    assert set(statements) == {"Queues", "PushEndpoints", "SmsToPhoneNumbers", "Email", "ProductImages",
                               "OrganizationLogos", "DatabaseCredentials", "CognitoAdministration", "AppMetrics",
                               "StreamedLogs"}
    trust = iam.get_role(RoleName=resources["ServiceRole"])["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "elasticbeanstalk.amazonaws.com"}


def test_the_alarm_topic_exists(aws, stacks):
    topics = [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]
    assert _value(stacks, "alerts", "AlarmTopicArn") in topics


def _environment(stacks) -> tuple[dict, dict]:
    """The EB environment's option settings as moto evaluated them: (environment properties, custom options)."""
    properties, custom = {}, {}
    for output in stacks["environment"]["outputs"].values():
        if output["OutputKey"].startswith("Option"):
            namespace, option = output["Description"].split("|")
            if namespace == "aws:elasticbeanstalk:application:environment":
                properties[option] = output["OutputValue"]
            elif namespace == "aws:elasticbeanstalk:customoption":
                custom[option] = output["OutputValue"]
    return properties, custom


def test_the_environment_properties_land_in_the_apps_settings(stacks, tmp_path):
    env, _ = _environment(stacks)
    assert env["DATABASE_URL"] == _value(stacks, "database", "DatabaseUrl")
    assert env["DATABASE_SECRET_ARN"] == _value(stacks, "database", "DatabaseSecretArn")
    assert env["RATELIMIT_STORAGE_URI"] == _value(stacks, "cache", "RateLimitStorageUri")
    assert env["RATELIMIT_STORAGE_URI"].startswith("rediss://")  # ElastiCache with in-transit encryption
    assert env["COGNITO_USER_POOL_ID"] == _value(stacks, "cognito", "UserPoolId")
    assert env["COGNITO_APP_CLIENT_IDS"] == _value(stacks, "cognito", "AppClientId")
    assert env["PRODUCT_IMAGE_BUCKET"] == _value(stacks, "storage", "ProductImageBucketName")
    assert env["ORGANIZATION_LOGO_BUCKET"] == _value(stacks, "storage", "OrganizationLogoBucketName")
    assert env["QUEUE_PREFIX"] == _value(stacks, "queues", "QueuePrefix")
    assert env["SNS_PLATFORM_APPLICATION_ARN"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:app/GCM/torium-fcm"
    assert env["AWS_REGION"] == REGION and env["TORIUM_ENV"] == "production"

    config = load_config(env, instance_path=tmp_path)
    for name, value in env.items():
        if name not in config:
            # LEAD: the app does not read these yet (PENDING_IN_APP); once load_config returns them, the
            # comparison below checks them and the name leaves PENDING_IN_APP.
            assert name in PENDING_IN_APP, f"{name} is set on the environment but the app never reads it"
            continue
        expected = config[name]
        if isinstance(expected, list):
            assert expected == [v.strip() for v in value.split(",")], name
        else:
            assert str(expected) == value, name
    assert set(env) >= PENDING_IN_APP
    validate(config)  # the production checks pass: nothing required is missing or malformed


def test_the_custom_options_feed_the_load_balancer_alarm(stacks):
    _, custom = _environment(stacks)
    assert custom == {"AlarmTopicArn": _value(stacks, "alerts", "AlarmTopicArn"), "Alb5xxRatePercent": "5"}
