"""The MQTT edge: a persistent QoS 1 subscription feeding micro-batches to the pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import store
from ingest.backlog import Backlog, marker_topic
from ingest.decode import Message
from ingest.formats import SUBSCRIPTIONS

if TYPE_CHECKING:
    from collections.abc import Callable

    from paho.mqtt import client as mqtt
    from paho.mqtt.client import SocketLike

    from ingest.pipeline import Pipeline

log = logging.getLogger(__name__)


# MQTT 5 session expiry meaning "never" (as MQTT 3.1.1 persistent sessions): an expired
# session's queued messages would be dropped.
_NEVER = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """`share_group`: subscribe through MQTT 5 shared subscriptions of this group, so
    several ingest processes (each its own `client_id`) share the messages."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    share_group: str | None = None
    tls: bool = False
    tls_ca: str | None = None  # a CA file to trust for the broker (None: the system's)

    def tls_params(self) -> aiomqtt.TLSParameters | None:
        """MQTT over TLS, the broker's certificate checked, when asked for."""
        if not self.tls:
            return None
        return aiomqtt.TLSParameters(ca_certs=self.tls_ca)

    @property
    def marker_topic(self) -> str:
        """This client's own topic for backlog markers: never shared."""
        return marker_topic(self.client_id)

    def topics(self) -> list[str]:
        topics = list(SUBSCRIPTIONS)
        if self.share_group is None:
            return topics
        return [f"$share/{self.share_group}/{t}" for t in topics]

    def client(self, *, window: int) -> aiomqtt.Client:
        """A client with a persistent session (MQTT 3.1.1, or 5 when sharing). `window`:
        messages the broker may send unacknowledged (MQTT 5's receive maximum; over MQTT
        3.1.1 the broker's own limit applies): ingest acknowledges once stored, so this is
        what it holds at most while the store is slow."""
        if self.share_group is None:
            return aiomqtt.Client(
                self.host,
                self.port,
                identifier=self.client_id,
                clean_session=False,
                username=self.username,
                password=self.password,
                tls_params=self.tls_params(),
            )
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = _NEVER
        properties.ReceiveMaximum = min(window, 65535)
        return aiomqtt.Client(
            self.host,
            self.port,
            identifier=self.client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=properties,
            username=self.username,
            password=self.password,
            tls_params=self.tls_params(),
        )


# Ingest holds at most this many batches' worth of messages received and not yet batched
# (over MQTT 5 the broker's window too), and takes a backlog that much at once.
QUEUED_BATCHES = 4


def message_queue(batch_size: int) -> asyncio.Queue[Message]:
    """The bounded queue between the readers (MQTT, HTTP) and the pipeline."""
    return asyncio.Queue(maxsize=batch_size * QUEUED_BATCHES)


@dataclass(frozen=True, slots=True)
class BatchConfig:
    """A batch waits for messages until it has `size`; messages already waiting it takes up
    to `most` (default: `size`): a backlog goes through in fewer, larger batches, each
    costing its transaction once, while a steady feed still waits for `size` at most."""

    size: int
    wait_s: float  # a batch closes at this age at the latest
    idle_s: float = 0.01  # or when no message came for this long: a quiet feed waits not
    most: int = 0


async def collect_batch(queue: asyncio.Queue[Message], config: BatchConfig) -> list[Message]:
    """Wait for one message, then take more until the batch has `size`, `wait_s` has passed
    or none came for `idle_s`; what is waiting already is taken without waiting, up to
    `most`.

    No asyncio.timeout (nor wait_for) around the waits: on Python 3.11 one that expires as
    the task is cancelled can lose the cancellation, and an idle wait expires every 10 ms
    (a stop then hung). asyncio.wait leaves the waiter alone; Queue.get gives back a
    message it had not handed out when cancelled."""
    batch = [await queue.get()]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.wait_s
    most = max(config.most, config.size)
    while len(batch) < most:
        if not queue.empty():
            batch.append(queue.get_nowait())
            continue
        if len(batch) >= config.size:
            break
        left = deadline - loop.time()
        if left <= 0:
            break
        getter = asyncio.ensure_future(queue.get())
        try:
            await asyncio.wait({getter}, timeout=min(config.idle_s, left))
        finally:
            getter.cancel()  # nothing if it has its message
        with contextlib.suppress(asyncio.CancelledError):
            await getter  # settled: its message, or cancelled
        store.cancellation.honour_cancellation()  # ours, not the getter's
        if getter.cancelled():
            break
        batch.append(getter.result())
    return batch


async def _read(
    config: MqttConfig,
    queue: asyncio.Queue[Message],
    connected: asyncio.Event,
    backlog: Backlog,
) -> None:
    """Keep a persistent session subscribed, reconnecting with back-off."""
    delay = 0.5
    while True:
        client = config.client(window=queue.maxsize)
        # Acknowledge each message only once its batch is stored: a crash before that has
        # the broker deliver it again (and the store keeps it once). aiomqtt has no public
        # switch for paho's manual acknowledgement, hence its client underneath.
        client._client.manual_ack_set(True)
        _lean(client._client)
        try:
            async with client:
                for topic in [*config.topics(), config.marker_topic]:
                    await client.subscribe(topic, qos=1)
                log.info("subscribed on %s:%d", config.host, config.port)
                connected.set()
                delay = 0.5
                backlog.begin()  # whatever waited for this session comes first
                marking = asyncio.create_task(_mark(client, config.marker_topic, backlog))
                try:
                    await _receive(client, config, queue, backlog)
                except asyncio.CancelledError:
                    if config.share_group is not None:
                        await _leave(client, config)
                    raise
                finally:
                    marking.cancel()
                    await asyncio.gather(marking, return_exceptions=True)
        except aiomqtt.MqttError as exc:
            # Cancelled while disconnecting: the disconnect's own timeout error must not turn
            # a shutdown into a reconnect.
            store.cancellation.honour_cancellation()
            connected.clear()
            log.warning("MQTT connection lost (%s); reconnecting in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


def _lean(paho: mqtt.Client) -> None:
    """Take paho's per-message costs that ingest does not need out of its receive path (a
    third of its time per message, measured with `ccmon bench e2e`). Both touch paho's
    internals; should a paho release rename them, these lines change nothing and ingest
    works as before, only slower.

    - Topic filters of per-topic callbacks: ingest registers none, yet paho split every
      topic and walked its (empty) filter tree for each message.
    - paho reads a packet's header from the socket a byte at a time (three or four system
      calls a message): its socket is wrapped to read what arrived at once and serve the
      bytes from there. `pending()` is how aiomqtt's reader learns, as for TLS, that there
      is more to read before it waits for the socket again."""
    paho._on_message_filtered = _NoFilters()  # type: ignore[assignment]
    create = paho._create_socket
    paho._create_socket = lambda: _Buffered(create())  # type: ignore[method-assign]


class _NoFilters:
    @staticmethod
    def iter_match(_topic: str) -> tuple[()]:
        return ()


class _Buffered:
    """A socket whose reads are served from one large read of what has arrived."""

    _READ = 256 * 1024

    def __init__(self, sock: SocketLike) -> None:
        self._sock = sock
        self._data = b""
        self._at = 0

    def recv(self, size: int) -> bytes:
        if self._at == len(self._data):
            # Nothing buffered: BlockingIOError, ssl.SSLWantReadError and the end of the
            # stream (b"") come from the socket itself, as paho expects them.
            self._data, self._at = self._sock.recv(self._READ), 0
        out = self._data[self._at : self._at + size]
        self._at += len(out)
        return out

    def pending(self) -> int:
        inner = getattr(self._sock, "pending", None)
        return len(self._data) - self._at + (inner() if inner is not None else 0)

    def __getattr__(self, name: str) -> Any:  # the socket's own, as it is
        return getattr(self._sock, name)


async def _receive(
    client: aiomqtt.Client,
    config: MqttConfig,
    queue: asyncio.Queue[Message],
    backlog: Backlog,
) -> None:
    paho = client._client
    arrived = client._queue  # what aiomqtt received and its iterator has not handed out
    async for first in client.messages:
        m: aiomqtt.Message | None = first
        # Those that arrived with it are taken at once: the iterator waits on its queue and
        # on a disconnect (a task and a wait) for each message.
        while m is not None:
            raw = m.payload
            payload = raw if isinstance(raw, bytes) else str(raw).encode()
            ack: Callable[[], object] | None = (
                functools.partial(paho.ack, m.mid, m.qos) if m.qos else None
            )
            topic = m.topic.value
            if topic == config.marker_topic:
                ack = functools.partial(_marker_passed, ack, backlog, payload)
                message = Message(topic, payload, time.time(), marker=True, ack=ack)
            else:
                message = Message(topic, payload, time.time(), m.retain, ack=ack)
            if queue.full():
                await queue.put(message)  # the pipeline pushes back
            else:
                queue.put_nowait(message)
            m = None if arrived.empty() else arrived.get_nowait()


def _marker_passed(ack: Callable[[], object] | None, backlog: Backlog, payload: bytes) -> None:
    if ack is not None:
        ack()
    backlog.passed(payload)


async def _mark(client: aiomqtt.Client, topic: str, backlog: Backlog) -> None:
    """Publish a marker whenever a backlog begins (see `ingest.backlog`)."""
    while True:
        await backlog.wanted.wait()
        await client.publish(topic, backlog.marker(), qos=1)


async def _leave(client: aiomqtt.Client, config: MqttConfig) -> None:
    """Stopping: leave the shared subscription, or the broker (Mosquitto) would go on
    queueing this member's share of the messages for its return. What it was sent and did
    not store stays in its session, delivered again when it connects once more."""
    with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
        async with asyncio.timeout(2.0):
            await client.unsubscribe(config.topics())


async def _tick(pipeline: Pipeline, every_s: float) -> None:
    while True:
        store.cancellation.honour_cancellation()
        await asyncio.sleep(every_s)
        try:
            await pipeline.tick(time.time())
        except Exception:
            # A failing clock rule must not stop ingest; the next tick tries again.
            log.exception("clock rules failed")


async def run_ingest(
    pipeline: Pipeline,
    mqtt: MqttConfig,
    batching: BatchConfig,
    *,
    queue: asyncio.Queue[Message] | None = None,
    connected: asyncio.Event | None = None,
    tick_s: float = 1.0,
) -> None:
    """Read MQTT and run the pipeline until cancelled, with the clock rules every `tick_s`.
    The queue (pass one to share it with other ingest edges, such as HTTP) outlives
    reconnects, and its bound pushes back on the readers while the store is slow."""
    queue = queue or message_queue(batching.size)
    await pipeline.refresh()
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(_read(mqtt, queue, connected or asyncio.Event(), pipeline.backlog))
            tg.create_task(_tick(pipeline, tick_s))
            while True:
                store.cancellation.honour_cancellation()
                await pipeline.process(await collect_batch(queue, batching))
    finally:
        await pipeline.close()
