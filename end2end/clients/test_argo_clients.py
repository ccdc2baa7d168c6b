"""Argo's own Python clients, unchanged, against a real `trellis serve`.

hera (the Python SDK most Argo users write workflows with) and argo-workflows (the official
OpenAPI client) create workflows and templates, wait for them, read their logs, approve a
suspended step and stop a run, exactly as they do against Argo Server.

Run with `.venv/bin/python -m pytest end2end/clients` after `cargo build -p server`
(scripts/test does both). Environment: TRELLIS_BIN, the `trellis` binary (default:
$CARGO_TARGET_DIR/debug/trellis, else target/debug/trellis).
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
BIN = os.environ.get("TRELLIS_BIN") or str(TARGET / "debug" / "trellis")
NS = "argo"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    data = tempfile.mkdtemp(prefix="trellis-clients-")
    port = free_port()
    proc = subprocess.Popen(
        [BIN, "serve", "--port", str(port), "--data-dir", data, "--site-dir", "/nonexistent"],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, "trellis serve exited"
        assert time.time() < deadline, "trellis serve did not come up"
        time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=15)
    shutil.rmtree(data, ignore_errors=True)


def wait_until(fn, what, timeout=30):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


# --- hera ---------------------------------------------------------------------------------


def hera_service(server):
    from hera.workflows import WorkflowsService

    return WorkflowsService(host=server, namespace=NS, verify_ssl=False)


def test_hera_creates_a_workflow_and_waits_for_it(server):
    from hera.workflows import Container, Steps, Workflow

    svc = hera_service(server)
    with Workflow(generate_name="hera-", entrypoint="main", namespace=NS, workflows_service=svc) as w:
        say = Container(name="say", image="alpine", command=["echo", "hello from hera"])
        with Steps(name="main"):
            say(name="one")
            say(name="two")
    done = w.create(wait=True, poll_interval=1)
    assert done.status.phase == "Succeeded"
    assert done.metadata.name.startswith("hera-")
    names = sorted(n.display_name for n in done.status.nodes.values() if n.type == "Pod")
    assert names == ["one", "two"]
    listed = svc.list_workflows(namespace=NS)
    assert done.metadata.name in [i.metadata.name for i in listed.items]


def test_hera_sees_lint_errors_and_nothing_is_created(server):
    from hera.exceptions import BadRequest
    from hera.workflows import Workflow
    from hera.workflows.models import WorkflowCreateRequest

    svc = hera_service(server)
    with Workflow(generate_name="typo-", entrypoint="nowhere", namespace=NS, workflows_service=svc) as w:
        pass
    before = len(svc.list_workflows(namespace=NS).items or [])
    with pytest.raises(BadRequest) as err:
        svc.create_workflow(WorkflowCreateRequest(workflow=w.build()), namespace=NS)
    assert "nowhere" in str(err.value)
    assert len(svc.list_workflows(namespace=NS).items or []) == before


def test_hera_template_submit_and_approval(server):
    from hera.workflows import Container, Parameter, Steps, Suspend, WorkflowTemplate
    from hera.workflows.models import (
        SubmitOpts,
        ValueFrom,
        WorkflowResumeRequest,
        WorkflowSetRequest,
        WorkflowSubmitRequest,
    )

    svc = hera_service(server)
    with WorkflowTemplate(
        name="hera-release",
        entrypoint="main",
        namespace=NS,
        workflows_service=svc,
        arguments=Parameter(name="service", value="web"),
    ) as wt:
        gate = Suspend(
            name="gate",
            outputs=[Parameter(name="env", value_from=ValueFrom(supplied={}, default="staging"))],
        )
        deploy = Container(
            name="deploy",
            image="alpine",
            inputs=[Parameter(name="env")],
            command=["echo", "{{workflow.parameters.service}} to {{inputs.parameters.env}}"],
        )
        with Steps(name="main"):
            gate(name="approve")
            deploy(arguments={"env": "{{steps.approve.outputs.parameters.env}}"})
    wt.create()
    assert svc.get_workflow_template("hera-release", namespace=NS).metadata.name == "hera-release"

    run = svc.submit_workflow(
        WorkflowSubmitRequest(
            resource_kind="WorkflowTemplate",
            resource_name="hera-release",
            submit_options=SubmitOpts(parameters=["service=api"]),
        ),
        namespace=NS,
    )
    name = run.metadata.name
    assert run.metadata.labels["workflows.argoproj.io/workflow-template"] == "hera-release"

    def waiting():
        wf = svc.get_workflow(name, namespace=NS)
        nodes = (wf.status.nodes or {}).values() if wf.status else []
        return any(n.display_name == "approve" and n.phase == "Running" for n in nodes)

    wait_until(waiting, "the approval step")
    svc.set_workflow(
        name,
        WorkflowSetRequest(node_field_selector="displayName=approve", output_parameters=json.dumps({"env": "prod"})),
        namespace=NS,
    )
    svc.resume_workflow(name, WorkflowResumeRequest(node_field_selector="displayName=approve"), namespace=NS)
    done = wait_until(
        lambda: (lambda wf: wf if wf.status.phase in ("Succeeded", "Failed", "Error") else None)(
            svc.get_workflow(name, namespace=NS)
        ),
        "the release",
    )
    assert done.status.phase == "Succeeded"
    deploy_node = next(n for n in done.status.nodes.values() if n.display_name == "deploy")
    assert deploy_node.inputs.parameters[0].value == "prod"


# --- argo-workflows (the official SDK) ----------------------------------------------------


def sdk(server):
    import argo_workflows
    from argo_workflows.api import workflow_service_api

    config = argo_workflows.Configuration(host=server)
    return workflow_service_api.WorkflowServiceApi(argo_workflows.ApiClient(config))


def sdk_get(api, name):
    """A workflow as the raw JSON the server sent."""
    return json.loads(api.get_workflow(NS, name, _preload_content=False).data)


def sdk_finished(api, name):
    def done():
        wf = sdk_get(api, name)
        return wf if wf.get("status", {}).get("phase") in ("Succeeded", "Failed", "Error") else None

    return wait_until(done, f"workflow {name}")


def sdk_workflow(manifest):
    from argo_workflows.model.io_argoproj_workflow_v1alpha1_workflow_create_request import (
        IoArgoprojWorkflowV1alpha1WorkflowCreateRequest,
    )

    return IoArgoprojWorkflowV1alpha1WorkflowCreateRequest(workflow=manifest, _check_type=False)


def test_sdk_creates_reads_logs_and_stops(server):
    api = sdk(server)
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "sdk-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "script": {
                        "image": "python:3",
                        "command": ["python"],
                        "source": "for i in range(3):\n    print('line', i)\n",
                    },
                }
            ],
        },
    }
    created = api.create_workflow(NS, sdk_workflow(manifest), _check_return_type=False)
    name = created["metadata"]["name"]
    done = sdk_finished(api, name)
    assert done["status"]["phase"] == "Succeeded"
    assert done["status"]["nodes"][name]["outputs"]["result"] == "line 0\nline 1\nline 2"

    resp = api.workflow_logs(NS, name, log_options_container="main", _preload_content=False)
    lines = [json.loads(l)["result"]["content"] for l in resp.data.decode().splitlines() if l.strip()]
    assert lines == ["line 0", "line 1", "line 2"]

    from argo_workflows.model.io_argoproj_workflow_v1alpha1_workflow_stop_request import (
        IoArgoprojWorkflowV1alpha1WorkflowStopRequest,
    )

    sleeper = {
        "metadata": {"generateName": "sdk-sleep-"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "container": {"image": "alpine", "command": ["sleep", "60"]}}],
        },
    }
    name = api.create_workflow(NS, sdk_workflow(sleeper), _check_return_type=False)["metadata"]["name"]
    wait_until(lambda: sdk_get(api, name).get("status", {}).get("phase") == "Running", "the sleeper")
    api.stop_workflow(NS, name, IoArgoprojWorkflowV1alpha1WorkflowStopRequest(), _check_return_type=False)
    assert sdk_finished(api, name)["status"]["phase"] == "Failed"


def test_sdk_typed_models_read_trellis_answers(server):
    """With type checks on, the SDK's generated models accept what Trellis returns."""
    api = sdk(server)
    manifest = {
        "metadata": {"generateName": "typed-"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "container": {"image": "alpine", "command": ["echo", "typed"]}}],
        },
    }
    name = api.create_workflow(NS, sdk_workflow(manifest), _check_return_type=False)["metadata"]["name"]
    assert sdk_finished(api, name)["status"]["phase"] == "Succeeded"
    wf = api.get_workflow(NS, name)
    assert wf.status.phase == "Succeeded"
    listed = api.list_workflows(NS)
    assert name in [i.metadata.name for i in listed.items]
