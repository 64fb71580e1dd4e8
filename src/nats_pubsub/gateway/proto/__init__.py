"""The gateway's protobuf schema (`message.proto`) and the module protoc generated from it."""

__all__: list[str] = []
