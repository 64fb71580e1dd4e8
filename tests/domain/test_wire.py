"""The prebuilt HPUB frame says what nats-py's own publish(headers=...) would send."""

from __future__ import annotations

import pytest
from nats.protocol import command

from nats_pubsub.domain.wire import HpubPrefix, hpub_frame, hpub_numbered_format, msg_id_header


def test_frame_matches_the_clients_encoding() -> None:
    """Same header block and sizes as nats-py's hpub command (which adds an empty reply)."""
    header = msg_id_header("pub-42")
    theirs = command.hpub_cmd("events.test", "", bytearray(header), b'{"a":1}')
    ours = hpub_frame("events.test", "pub-42", b'{"a":1}')
    assert ours == theirs.replace(b"HPUB events.test  ", b"HPUB events.test ", 1)


def test_header_block_layout() -> None:
    """The header block is the NATS/1.0 line, the id line and a blank line."""
    assert msg_id_header("x@run") == b"NATS/1.0\r\nNats-Msg-Id: x@run\r\n\r\n"


def test_sizes_count_header_and_payload() -> None:
    """HPUB carries the header size and the total size, in bytes (UTF-8 ids included)."""
    frame = hpub_frame("s", "ü-1", b"12345")
    head, _, rest = frame.partition(b"\r\n")
    _, _, header_size, total_size = head.split(b" ")
    assert int(header_size) == len(msg_id_header("ü-1"))
    assert int(total_size) == int(header_size) + 5
    assert rest.endswith(b"12345\r\n")


@pytest.mark.parametrize("bad", ["a\r\nb", "a\nb"])
def test_line_breaks_in_ids_are_refused(bad: str) -> None:
    """An id with a line break would corrupt the protocol stream, so it is refused."""
    with pytest.raises(ValueError, match="line break"):
        msg_id_header(bad)


def test_prefix_frame_matches_hpub_frame() -> None:
    """A subject's cached command start builds the same frame as hpub_frame."""
    assert HpubPrefix("events.x").frame("ü-7".encode(), b"{}") == hpub_frame(
        "events.x", "ü-7", b"{}"
    )


def test_reply_frame_matches_the_clients_encoding() -> None:
    """With a reply subject, the frame is nats-py's own hpub command, byte for byte."""
    header = msg_id_header("pub-9@run")
    theirs = command.hpub_cmd("events.x", "_INBOX.abc.1", bytearray(header), b'{"a":1}')
    ours = HpubPrefix("events.x").reply_frame(b"_INBOX.abc.1", b"pub-9@run", b'{"a":1}')
    assert ours == bytes(theirs)


@pytest.mark.parametrize(("subject", "prefix"), [("events.x", "pub-"), ("a%b", "ü%d-")])
def test_numbered_format_matches_hpub_frame(subject: str, prefix: str) -> None:
    """Filled with a number and a payload, the numbered format is hpub_frame's frame."""
    form, header_base = hpub_numbered_format(subject, prefix)
    for number in (1, 9, 10, 123_456_789):
        payload = b'{"n":%d}' % number
        header = header_base + len(str(number))
        filled = form % (header, header + len(payload), b"%d" % number, payload)
        assert filled == hpub_frame(subject, f"{prefix}{number}", payload)


def test_numbered_format_refuses_line_breaks() -> None:
    """An id prefix with a line break is refused, as a whole id would be."""
    with pytest.raises(ValueError, match="line break"):
        hpub_numbered_format("s", "a\nb-")
