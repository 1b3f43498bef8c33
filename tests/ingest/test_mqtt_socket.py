"""The socket paho reads MQTT from: whatever arrived read at once, served in paho's sizes."""

from __future__ import annotations

import socket

import pytest

from ingest.mqtt import _Buffered


def test_reads_come_from_one_read_and_end_as_the_socket_does() -> None:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    buffered = _Buffered(ours)
    with pytest.raises(BlockingIOError):
        buffered.recv(1)  # nothing arrived: as the socket says
    theirs.sendall(b"\x30\x05hello\x30\x02hi")
    assert buffered.recv(1) == b"\x30"
    assert buffered.pending() == 10  # told to aiomqtt's reader: read on before waiting
    assert buffered.recv(1) == b"\x05"
    assert buffered.recv(5) == b"hello"
    assert buffered.recv(100) == b"\x30\x02hi"  # what is buffered, no more
    assert buffered.pending() == 0
    assert buffered.fileno() == ours.fileno()  # the rest is the socket's own
    theirs.close()
    assert buffered.recv(1) == b""  # the end of the stream
    ours.close()
