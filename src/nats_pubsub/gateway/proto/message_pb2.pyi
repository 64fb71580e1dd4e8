import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FrameType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAME_TYPE_UNSPECIFIED: _ClassVar[FrameType]
    MESSAGE: _ClassVar[FrameType]
    CONTROL: _ClassVar[FrameType]
    SUBSCRIPTION_ACK: _ClassVar[FrameType]

class ControlType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROL_TYPE_UNSPECIFIED: _ClassVar[ControlType]
    ERROR: _ClassVar[ControlType]
    CLOSE: _ClassVar[ControlType]
    KEEPALIVE: _ClassVar[ControlType]
    SUBSCRIBE_ACK: _ClassVar[ControlType]
FRAME_TYPE_UNSPECIFIED: FrameType
MESSAGE: FrameType
CONTROL: FrameType
SUBSCRIPTION_ACK: FrameType
CONTROL_TYPE_UNSPECIFIED: ControlType
ERROR: ControlType
CLOSE: ControlType
KEEPALIVE: ControlType
SUBSCRIBE_ACK: ControlType

class PublishMessage(_message.Message):
    __slots__ = ("message_id", "subject", "timestamp", "source", "data", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    subject: str
    timestamp: _timestamp_pb2.Timestamp
    source: str
    data: bytes
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, message_id: _Optional[str] = ..., subject: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., data: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PublishAck(_message.Message):
    __slots__ = ("published", "subject", "stream", "sequence", "timestamp")
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    published: bool
    subject: str
    stream: str
    sequence: int
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, published: _Optional[bool] = ..., subject: _Optional[str] = ..., stream: _Optional[str] = ..., sequence: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FetchRequest(_message.Message):
    __slots__ = ("subject", "limit", "start_sequence")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    START_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    subject: str
    limit: int
    start_sequence: int
    def __init__(self, subject: _Optional[str] = ..., limit: _Optional[int] = ..., start_sequence: _Optional[int] = ...) -> None: ...

class FetchedMessage(_message.Message):
    __slots__ = ("subject", "sequence", "timestamp", "data", "size_bytes", "stream")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    subject: str
    sequence: int
    timestamp: _timestamp_pb2.Timestamp
    data: bytes
    size_bytes: int
    stream: str
    def __init__(self, subject: _Optional[str] = ..., sequence: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data: _Optional[bytes] = ..., size_bytes: _Optional[int] = ..., stream: _Optional[str] = ...) -> None: ...

class FetchResponse(_message.Message):
    __slots__ = ("subject", "count", "stream", "messages")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    subject: str
    count: int
    stream: str
    messages: _containers.RepeatedCompositeFieldContainer[FetchedMessage]
    def __init__(self, subject: _Optional[str] = ..., count: _Optional[int] = ..., stream: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[FetchedMessage, _Mapping]]] = ...) -> None: ...

class UserEvent(_message.Message):
    __slots__ = ("user_id", "event_type", "occurred_at", "email", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    event_type: str
    occurred_at: _timestamp_pb2.Timestamp
    email: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, user_id: _Optional[str] = ..., event_type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., email: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PaymentEvent(_message.Message):
    __slots__ = ("transaction_id", "status", "amount", "currency", "processed_at", "card_last_four")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_AT_FIELD_NUMBER: _ClassVar[int]
    CARD_LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    status: str
    amount: float
    currency: str
    processed_at: _timestamp_pb2.Timestamp
    card_last_four: str
    def __init__(self, transaction_id: _Optional[str] = ..., status: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., processed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., card_last_four: _Optional[str] = ...) -> None: ...

class StreamMessage(_message.Message):
    __slots__ = ("subject", "sequence", "timestamp", "data", "size_bytes", "stream", "consumer")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    subject: str
    sequence: int
    timestamp: _timestamp_pb2.Timestamp
    data: bytes
    size_bytes: int
    stream: str
    consumer: str
    def __init__(self, subject: _Optional[str] = ..., sequence: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data: _Optional[bytes] = ..., size_bytes: _Optional[int] = ..., stream: _Optional[str] = ..., consumer: _Optional[str] = ...) -> None: ...

class ControlMessage(_message.Message):
    __slots__ = ("type", "message", "code")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    type: ControlType
    message: str
    code: int
    def __init__(self, type: _Optional[_Union[ControlType, str]] = ..., message: _Optional[str] = ..., code: _Optional[int] = ...) -> None: ...

class WebSocketFrame(_message.Message):
    __slots__ = ("type", "message", "control")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    type: FrameType
    message: StreamMessage
    control: ControlMessage
    def __init__(self, type: _Optional[_Union[FrameType, str]] = ..., message: _Optional[_Union[StreamMessage, _Mapping]] = ..., control: _Optional[_Union[ControlMessage, _Mapping]] = ...) -> None: ...
