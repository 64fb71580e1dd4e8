"""The checked-in protobuf module matches message.proto, and the codec's round trips."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nats_pubsub.gateway.proto as proto_package
from nats_pubsub.gateway import protocodec
from nats_pubsub.gateway.proto import message_pb2 as pb
from nats_pubsub.gateway.validation import Invalid

PROTO_DIR = Path(proto_package.__file__).parent
_DESCRIPTOR = re.compile(rb"AddSerializedFile\((b'.*?')\)", re.DOTALL)


def _descriptor(source: bytes) -> bytes:
    match = _DESCRIPTOR.search(source)
    assert match is not None, "no serialized descriptor in the generated module"
    value: bytes = eval(match.group(1))  # a bytes literal written by protoc
    return value


def test_the_generated_module_matches_the_proto(tmp_path: Path) -> None:
    """protoc (grpcio-tools) regenerates message_pb2.py: the same schema as the checked-in one."""
    try:
        import grpc_tools
    except ImportError:
        if os.environ.get("CI") or os.environ.get("REQUIRE_PEERS"):
            raise
        pytest.skip("install grpcio-tools (a dev dependency) to regenerate message_pb2.py")
    includes = Path(grpc_tools.__file__).parent / "_proto"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{includes}",
            f"--python_out={tmp_path}",
            str(PROTO_DIR / "message.proto"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    fresh = _descriptor((tmp_path / "message_pb2.py").read_bytes())
    checked_in = _descriptor((PROTO_DIR / "message_pb2.py").read_bytes())
    assert fresh == checked_in, "message.proto changed: regenerate message_pb2.py (docs/gateway.md)"


def test_the_schema_has_the_upstream_fields() -> None:
    """Field numbers from the upstream's message.proto."""
    fields = {f.name: f.number for f in pb.PublishMessage.DESCRIPTOR.fields}
    assert fields == {
        "message_id": 1,
        "subject": 2,
        "timestamp": 3,
        "source": 4,
        "data": 5,
        "metadata": 6,
    }
    frame = {f.name: f.number for f in pb.WebSocketFrame.DESCRIPTOR.fields}
    assert frame == {"type": 1, "message": 2, "control": 3}
    assert pb.ControlType.Value("SUBSCRIBE_ACK") == 4


def test_publish_body_round_trip() -> None:
    """The data bytes become a base64 JSON string; an empty body and garbage are 400s."""
    body = pb.PublishMessage(message_id="m", source="s", data=b"\x00\xff").SerializeToString()
    parsed = protocodec.parse_publish(body)
    assert parsed == protocodec.ProtoPublish("m", "s", b'"AP8="')
    with pytest.raises(Invalid, match="Request body is empty"):
        protocodec.parse_publish(b"")
    with pytest.raises(Invalid, match="Invalid protobuf format") as caught:
        protocodec.parse_publish(b"\xff\xff")
    assert caught.value.details


def test_frames() -> None:
    """MESSAGE and CONTROL frames as the upstream's clients decode them."""
    frame = pb.WebSocketFrame.FromString(
        protocodec.message_frame("a.b", 5, 1_700_000_000_123_456_789, b"{}", "S", "c")
    )
    assert (frame.type, frame.message.sequence, frame.message.stream) == (pb.MESSAGE, 5, "S")
    assert (frame.message.timestamp.seconds, frame.message.timestamp.nanos) == (
        1_700_000_000,
        123_456_789,
    )
    control = pb.WebSocketFrame.FromString(protocodec.control_frame(pb.ERROR, "lagging", 12))
    assert (control.control.type, control.control.message, control.control.code) == (
        pb.ERROR,
        "lagging",
        12,
    )
