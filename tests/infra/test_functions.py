"""Every function runs the same way: runtime, architecture, layer, tracing, logs and code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.code_asset import runtime_python
from infra.functions import POWERTOOLS_LAYER_VERSION, RUNTIME
from tests.infra.conftest import Synthesized

RUNTIME_VERSION = RUNTIME.name.removeprefix("python")

FUNCTIONS = {
    # name: (memory MB, timeout s)
    "ecr": (256, 60),
    "webhooks": (256, 10),
    "kubernetes": (512, 60),
    "correlate": (256, 30),
}
LAYER = (
    f":017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:{POWERTOOLS_LAYER_VERSION}"
)


def function_named(synthesized: Synthesized, name: str) -> dict[str, Any]:
    """The properties of the function whose handler lives in `lambdas.<name>`."""
    handler = f"lambdas.{name}.handler.lambda_handler"
    found = [
        resource["Properties"]
        for resource in synthesized.resources("AWS::Lambda::Function").values()
        if resource["Properties"]["Handler"] == handler
    ]
    assert len(found) == 1, f"expected one function with handler {handler}"
    return found[0]


def test_the_stack_has_exactly_the_four_detector_functions(synthesized: Synthesized) -> None:
    handlers = {
        resource["Properties"]["Handler"]
        for resource in synthesized.resources("AWS::Lambda::Function").values()
    }

    assert handlers == {f"lambdas.{name}.handler.lambda_handler" for name in FUNCTIONS}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_runs_python_3_13_on_arm64_with_tracing(
    synthesized: Synthesized, name: str
) -> None:
    function = function_named(synthesized, name)

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert (function["MemorySize"], function["Timeout"]) == FUNCTIONS[name]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_uses_only_the_public_powertools_layer(
    synthesized: Synthesized, name: str
) -> None:
    (layer,) = function_named(synthesized, name)["Layers"]
    parts = layer["Fn::Join"][1]

    assert {"Ref": "AWS::Region"} in parts
    assert parts[-1] == LAYER


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_gets_the_tables_settings_and_metrics_namespace(
    synthesized: Synthesized, name: str
) -> None:
    variables = function_named(synthesized, name)["Environment"]["Variables"]
    store = synthesized.stack.store

    assert variables["RISK_TABLE_NAME"] == {"Ref": synthesized.logical_id(store.risk_table)}
    assert variables["STATE_TABLE_NAME"] == {"Ref": synthesized.logical_id(store.state_table)}
    assert variables["SETTINGS_PARAMETER"] == {
        "Ref": synthesized.logical_id(synthesized.stack.settings.parameter)
    }
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "DevSecOpsDetector"
    assert variables["POWERTOOLS_SERVICE_NAME"] == name


def test_the_webhooks_function_knows_its_secrets_and_queues(synthesized: Synthesized) -> None:
    variables = function_named(synthesized, "webhooks")["Environment"]["Variables"]
    webhooks = synthesized.stack.webhooks

    for key, secret in webhooks.secrets.items():
        assert variables[key] == {"Ref": synthesized.logical_id(secret)}
    assert variables["WEBHOOK_DLQ_URL"] == {"Ref": synthesized.logical_id(webhooks.dead_letters)}
    assert variables["CI_CHECK_QUEUE_URL"] == {"Ref": synthesized.logical_id(webhooks.checks)}


def test_the_correlate_function_knows_the_alert_topic(synthesized: Synthesized) -> None:
    variables = function_named(synthesized, "correlate")["Environment"]["Variables"]

    assert variables["ALERT_TOPIC_ARN"] == {
        "Ref": synthesized.logical_id(synthesized.stack.alerts.topic)
    }


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_logs_to_its_own_group_with_a_retention(
    synthesized: Synthesized, name: str
) -> None:
    group_id = function_named(synthesized, name)["LoggingConfig"]["LogGroup"]["Ref"]
    group = synthesized.resources("AWS::Logs::LogGroup")[group_id]["Properties"]

    assert group["RetentionInDays"] > 0


def shared_asset(synthesized: Synthesized) -> Path:
    """The one code asset every function uses, as staged in the cloud assembly."""
    (key,) = {
        resource["Properties"]["Code"]["S3Key"]
        for resource in synthesized.resources("AWS::Lambda::Function").values()
    }
    return synthesized.outdir / f"asset.{key.removesuffix('.zip')}"


def test_all_functions_share_one_code_asset_holding_only_the_lambdas_package(
    synthesized: Synthesized,
) -> None:
    asset = shared_asset(synthesized)
    shipped = {path.relative_to(asset).as_posix() for path in asset.rglob("*")}

    assert {path.split("/")[0] for path in shipped} == {"lambdas"}
    assert "lambdas/correlate/handler.py" in shipped
    assert not [path for path in shipped if "/tests" in path]


def test_the_asset_ships_bytecode_only_for_the_runtimes_python(synthesized: Synthesized) -> None:
    # Bytecode of any other version would be dead weight: the runtime ignores it.
    asset = shared_asset(synthesized)
    tags = {path.name.split(".")[-2] for path in asset.rglob("*.pyc")}
    sources = list(asset.rglob("*.py"))

    if runtime_python(RUNTIME_VERSION) is None:
        assert tags == set()
        pytest.skip(f"no Python {RUNTIME_VERSION} here: the asset holds sources only")
    assert tags == {"cpython-" + RUNTIME_VERSION.replace(".", "")}
    compiled = {pyc.parent.parent / f"{pyc.name.split('.')[0]}.py" for pyc in asset.rglob("*.pyc")}
    assert [path for path in sources if path not in compiled] == []


def test_every_data_file_the_functions_ship_has_a_notice_beside_it(
    synthesized: Synthesized,
) -> None:
    # The lookup tables come from Splunk's Apache-2.0 content, whose attribution must ship too.
    asset = shared_asset(synthesized)
    data = [path for path in asset.rglob("*") if path.suffix in {".csv", ".yml", ".json"}]

    assert [path.relative_to(asset) for path in data if not (path.parent / "NOTICE").exists()] == []
